// dsv2 bench: the llama-bench style table and its JSON lines, on a small in-memory model.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "support/fixtures.h"

namespace dsv2::tools {
namespace {

TEST(BenchCli, JsonLinesCarrySpeedAndRoofline) {
  test::RunResult r = test::run_dsv2({"bench", "--synth", "tiny", "--type", "q4_0", "-p", "8", "-n", "4", "-r", "2",
                                      "-t", "2", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  int pp = 0, tg = 0, memory = 0;
  while (std::getline(lines, line)) {
    const nlohmann::json j = nlohmann::json::parse(line);
    const std::string test = j.at("test");
    if (test == "pp8") {
      ++pp;
      EXPECT_GT(j.at("tps").get<double>(), 0);
      EXPECT_GE(j.at("tps_sd").get<double>(), 0);
      EXPECT_FALSE(j.contains("roofline_pct"));
    } else if (test == "tg4") {
      ++tg;
      EXPECT_GT(j.at("tps").get<double>(), 0);
      EXPECT_GT(j.at("read_gbs").get<double>(), 0);
      EXPECT_GT(j.at("roofline_pct").get<double>(), 0);
    } else if (test == "memory") {
      ++memory;
      EXPECT_EQ(j.at("prompt_attention"), "absorbed");
      EXPECT_GT(j.at("weight_bytes_per_token").get<double>(), 0);
      EXPECT_GT(j.at("peak_rss_gib").get<double>(), 0);
#if defined(__linux__)
      // the model's weights are anonymous memory; huge pages are a part of it (THP may be off)
      EXPECT_GT(j.at("anon_gb").get<double>(), 0);
      EXPECT_GE(j.at("anon_huge_gb").get<double>(), 0);
      EXPECT_LE(j.at("anon_huge_gb").get<double>(), j.at("anon_gb").get<double>());
#endif
    }
  }
  EXPECT_EQ(pp, 1);
  EXPECT_EQ(tg, 1);
  EXPECT_EQ(memory, 1);
}

TEST(BenchCli, MarkdownTableHasOneRowPerTest) {
  test::RunResult r = test::run_dsv2({"bench", "--synth", "tiny", "--type", "q8_0", "-p", "4", "-n", "2", "-r", "1", "-t", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("| test | t/s | read GB/s | roofline |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| pp4 |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| tg2 |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("weights read per token"), std::string::npos) << r.out;
#if defined(__linux__)
  EXPECT_NE(r.out.find("GiB; in huge pages "), std::string::npos) << r.out;
#endif
}

// --prompt-attention picks the prompt rows' attention form (named in the output), -b feeds the
// prompt in forwards of that many tokens (named in the test); an unknown form is an error
// naming the flag.
TEST(BenchCli, PromptAttentionFlag) {
  test::RunResult r = test::run_dsv2({"bench", "--synth", "tiny", "-p", "40", "-n", "2", "-r", "1", "-t", "2",
                                      "--prompt-attention", "expanded"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("| pp40 |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("prompt attention expanded"), std::string::npos) << r.out;
  r = test::run_dsv2({"bench", "--synth", "tiny", "-p", "40", "-b", "16", "-n", "0", "-r", "1", "-t", "2",
                      "--prompt-attention", "expanded"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("| pp40 (b16) |"), std::string::npos) << "prompt in forwards of 16 tokens: " << r.out;
  EXPECT_NE(r.out.find("prompt attention expanded"), std::string::npos) << r.out;
  r = test::run_dsv2({"bench", "--synth", "tiny", "-p", "4", "-n", "0", "--prompt-attention", "decompressed"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--prompt-attention: unknown form 'decompressed'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace dsv2::tools
