#include "generate/generation_config.h"

#include <gtest/gtest.h>

#include "support/fixtures.h"
#include "util/error.h"

namespace dsv2 {
namespace {

constexpr int32_t kEos = 100001;

GenerationConfig parse(const std::string& json) {
  return parse_generation_config(json, "generation_config.json", kEos);
}

std::string parse_error(const std::string& json) {
  try {
    parse(json);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

void expect_greedy(const SamplingParams& p) {
  EXPECT_TRUE(p.greedy());
  EXPECT_EQ(p.top_k, 0);
  EXPECT_EQ(p.top_p, 1.0f);
  EXPECT_EQ(p.repetition_penalty, 1.0f);
}

TEST(GenerationConfig, AbsentFileMeansGreedyUntilTokenizerEos) {
  test::TempDir dir;
  const auto c = load_generation_config(dir.path(), kEos);
  EXPECT_EQ(c.eos_token_ids, std::vector<int32_t>{kEos});
  EXPECT_FALSE(c.bos_token_id);
  EXPECT_FALSE(c.max_new_tokens);
  EXPECT_FALSE(c.max_length);
  expect_greedy(c.sampling);
}

TEST(GenerationConfig, LoadsTheFileFromTheModelDir) {
  // The shape DeepSeek-Coder-V2-Lite-Instruct ships.
  test::TempDir dir;
  test::write_file(dir.file("generation_config.json"),
                   R"({"_from_model_config": true, "bos_token_id": 100000,
                       "eos_token_id": 100001, "transformers_version": "4.39.3"})");
  const auto c = load_generation_config(dir.path(), 7);
  EXPECT_EQ(c.eos_token_ids, std::vector<int32_t>{100001});
  EXPECT_EQ(c.bos_token_id, 100000);
  expect_greedy(c.sampling);
}

TEST(GenerationConfig, DoSampleTakesHfDefaultsForUnsetFields) {
  // The shape DeepSeek-V2-Chat ships: no top_k, so HF's 50 applies.
  const auto c = parse(R"({"do_sample": true, "temperature": 0.3, "top_p": 0.95,
                           "eos_token_id": 100001})");
  EXPECT_FLOAT_EQ(c.sampling.temperature, 0.3f);
  EXPECT_FLOAT_EQ(c.sampling.top_p, 0.95f);
  EXPECT_EQ(c.sampling.top_k, 50);
  const auto d = parse(R"({"do_sample": true, "top_k": 0})");
  EXPECT_EQ(d.sampling.temperature, 1.0f);
  EXPECT_EQ(d.sampling.top_k, 0);
}

TEST(GenerationConfig, WithoutDoSampleTemperatureIsIgnored) {
  expect_greedy(parse(R"({"temperature": 0.7, "top_p": 0.9})").sampling);
  expect_greedy(parse(R"({"do_sample": false, "temperature": 0.7, "top_k": 5})").sampling);
}

TEST(GenerationConfig, EosMayBeAList) {
  EXPECT_EQ(parse(R"({"eos_token_id": [100001, 100008]})").eos_token_ids,
            (std::vector<int32_t>{100001, 100008}));
  EXPECT_EQ(parse(R"({"eos_token_id": 5})").eos_token_ids, std::vector<int32_t>{5});
  EXPECT_EQ(parse(R"({"eos_token_id": null})").eos_token_ids, std::vector<int32_t>{kEos});
}

TEST(GenerationConfig, RepetitionPenaltyCoversTheWholeContextLikeHf) {
  const auto c = parse(R"({"repetition_penalty": 1.1})");
  EXPECT_FLOAT_EQ(c.sampling.repetition_penalty, 1.1f);
  EXPECT_EQ(c.sampling.penalty_last_n, -1);
  EXPECT_TRUE(c.sampling.greedy());
}

TEST(GenerationConfig, LengthLimits) {
  const auto c = parse(R"({"max_new_tokens": 256, "max_length": 4096})");
  EXPECT_EQ(c.max_new_tokens, 256);
  EXPECT_EQ(c.max_length, 4096);
}

TEST(GenerationConfig, MalformedInputNamesFileAndField) {
  EXPECT_EQ(parse_error(R"({"top_p": "0.9", "do_sample": true})"),
            "generation_config.json: field 'top_p' must be a number, got string");
  EXPECT_EQ(parse_error(R"({"eos_token_id": [100001, "x"]})"),
            "generation_config.json: field 'eos_token_id' must be an integer, got string");
  EXPECT_EQ(parse_error(R"({"eos_token_id": []})"),
            "generation_config.json: field 'eos_token_id' must not be an empty list");
  EXPECT_EQ(parse_error(R"({"bos_token_id": -1})"),
            "generation_config.json: field 'bos_token_id' must be in [0, 2147483647], got -1");
  EXPECT_EQ(parse_error(R"({"eos_token_id": 18446744073709551615})"),
            "generation_config.json: field 'eos_token_id' must be in [0, 2147483647], got "
            "18446744073709551615");
  EXPECT_EQ(parse_error(R"({"top_k": 4.5})"),
            "generation_config.json: field 'top_k' must be an integer, got number");
  EXPECT_EQ(parse_error(R"({"do_sample": "yes"})"),
            "generation_config.json: field 'do_sample' must be true or false, got string");
  EXPECT_EQ(parse_error(R"({"max_new_tokens": 0})"),
            "generation_config.json: field 'max_new_tokens' must be in [1, 2147483647], got 0");
  EXPECT_EQ(parse_error(R"({"do_sample": true, "top_p": 1.5})"),
            "generation_config.json: top_p must be in (0, 1], got 1.5");
  EXPECT_EQ(parse_error("[1, 2]"), "generation_config.json: expected a JSON object at the top level");
  EXPECT_NE(parse_error(R"({"top_p": 0.9,})").find("generation_config.json: invalid JSON: "),
            std::string::npos);
}

TEST(GenerationConfig, LoadErrorsNameThePath) {
  test::TempDir dir;
  test::write_file(dir.file("generation_config.json"), "{\"temperature\": }");
  try {
    load_generation_config(dir.path(), kEos);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(dir.file("generation_config.json") + ": invalid JSON"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace dsv2
