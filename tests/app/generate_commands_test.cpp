// dsv2 run / infill / chat end to end on the trained tiny-coder model and the text-bf16 golden.
#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "support/fixtures.h"
#include "support/golden.h"
#include "tokenizer/tokenizer.h"

namespace dsv2 {
namespace {

TEST(RunCommand, GreedyCompletionIsTheGoldenContinuation) {
  test::Golden g = test::load_golden("tiny-coder");
  ASSERT_EQ(g.greedy_prompt, g.input_ids);
  Tokenizer tok = Tokenizer::from_hf_dir(g.model_dir);
  test::RunResult r = test::run_dsv2({"run", "-m", g.model_dir, "-p", g.prompt_text, "-n", "16", "-t", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, tok.decode(g.greedy_continuation, true) + "\n");
}

TEST(RunCommand, PromptFromFileAndStdinAndStopStrings) {
  test::Golden g = test::load_golden("tiny-coder");
  Tokenizer tok = Tokenizer::from_hf_dir(g.model_dir);
  const std::string expected = tok.decode(g.greedy_continuation, true);
  test::TempDir d;
  test::write_file(d.file("p.py"), g.prompt_text);
  test::RunResult r = test::run_dsv2({"run", "-m", g.model_dir, "-f", d.file("p.py"), "-n", "16"});
  EXPECT_EQ(r.out, expected + "\n") << r.err;
  r = test::run_dsv2({"run", "-m", g.model_dir, "-f", "-", "-n", "16"}, g.prompt_text);
  EXPECT_EQ(r.out, expected + "\n") << r.err;
  const std::string stop = expected.substr(4, 3);
  r = test::run_dsv2({"run", "-m", g.model_dir, "-p", g.prompt_text, "-n", "16", "--stop", stop});
  EXPECT_EQ(r.out, expected.substr(0, expected.find(stop)) + "\n") << r.err;
}

TEST(RunCommand, SameSeedSameOutput) {
  test::Golden g = test::load_golden("tiny-coder");
  std::vector<std::string> args = {"run", "-m", g.model_dir, "-p", "def main():\n", "-n", "24",
                                    "--temp", "0.9", "--top-p", "0.95", "--seed", "7"};
  test::RunResult a = test::run_dsv2(args), b = test::run_dsv2(args);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  args.back() = "8";
  EXPECT_NE(test::run_dsv2(args).out, a.out);
}

TEST(RunCommand, ClearErrors) {
  test::Golden g = test::load_golden("tiny-coder");
  test::RunResult r = test::run_dsv2({"run", "-m", "/nonexistent/model", "-p", "x"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("/nonexistent/model"), std::string::npos) << r.err;
  r = test::run_dsv2({"run", "-m", g.model_dir, "-p", g.prompt_text, "--ctx", "32"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("exceeds the context of 32 tokens"), std::string::npos) << r.err;
  r = test::run_dsv2({"run", "-m", g.model_dir, "-p", "x", "--top-p", "1.5"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("top_p"), std::string::npos) << r.err;
}

// --cache-type reaches the model: q8_0 keeps tiny-coder's greedy continuation (as the
// KvCacheQuality tests find in-process); a type the cache cannot hold is a one-line error.
TEST(RunCommand, CacheTypeFlag) {
  test::Golden g = test::load_golden("tiny-coder");
  Tokenizer tok = Tokenizer::from_hf_dir(g.model_dir);
  std::vector<std::string> args = {"run", "-m", g.model_dir, "-p", g.prompt_text, "-n", "16", "-t", "2",
                                   "--cache-type", "q8_0"};
  test::RunResult r = test::run_dsv2(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, tok.decode(g.greedy_continuation, true) + "\n");
  args.back() = "q4_0";
  r = test::run_dsv2(args);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("--cache-type"), std::string::npos) << r.err;
}

TEST(InfillCommand, FileAndLineEqualPrefixAndSuffix) {
  test::Golden g = test::load_golden("tiny-coder");
  test::TempDir d;
  const std::string prefix = "import os\n\ndef add(a, b):\n", suffix = "\nprint(add(1, 2))\n";
  test::write_file(d.file("f.py"), prefix + suffix);
  test::RunResult a = test::run_dsv2({"infill", "-m", g.model_dir, "--prefix", prefix, "--suffix", suffix, "-n", "12"});
  test::RunResult b = test::run_dsv2({"infill", "-m", g.model_dir, "--file", d.file("f.py"), "--line", "4", "-n", "12"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(a.out, b.out);
  test::RunResult c = test::run_dsv2({"infill", "-m", g.model_dir, "--file", d.file("f.py"), "--line", "40"});
  EXPECT_EQ(c.exit_code, 1);
  EXPECT_NE(c.err.find("fewer than 39 lines"), std::string::npos) << c.err;
}

TEST(InfillCommand, ModelWithoutFimTokensSaysSo) {
  test::Golden g = test::load_golden("text-bf16");
  test::TempDir d;
  auto tj = nlohmann::json::parse(test::read_file(g.model_dir + "/tokenizer.json"));
  auto& added = tj["added_tokens"];
  for (auto it = added.begin(); it != added.end();)
    it = (*it)["content"].get<std::string>().find("fim") != std::string::npos ? added.erase(it) : it + 1;
  test::write_file(d.file("tokenizer.json"), tj.dump());
  for (const char* f : {"config.json", "tokenizer_config.json", "model.safetensors"})
    test::write_file(d.file(f), test::read_file(g.model_dir + "/" + f));
  test::RunResult r = test::run_dsv2({"infill", "-m", d.path(), "--prefix", "a", "--suffix", "b"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("model does not support insertion"), std::string::npos) << r.err;
}

TEST(ChatCommand, MultiTurnReusesTheCache) {
  test::Golden g = test::load_golden("tiny-coder");
  test::RunResult r = test::run_dsv2({"chat", "-m", g.model_dir, "-n", "8", "-v", "--system", "You write Python."},
                                     "def f():\nand then?\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Two turns, each reporting its reuse; the second reuses at least the first turn's prompt.
  auto first = r.err.find(" prompt tokens reused");
  ASSERT_NE(first, std::string::npos) << r.err;
  auto second = r.err.find(" prompt tokens reused", first + 1);
  ASSERT_NE(second, std::string::npos) << r.err;
  const auto open = r.err.rfind('[', second);
  EXPECT_GT(std::stoi(r.err.substr(open + 1)), 10) << r.err;
}

}  // namespace
}  // namespace dsv2
