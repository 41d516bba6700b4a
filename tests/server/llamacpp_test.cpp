// llama.cpp server endpoints: /infill and /completion fields, {content, stop} SSE chunks,
// llama.cpp's error shape.
#include "generate/prompt.h"
#include "harness.h"

using nlohmann::json;

namespace dsv2::test {
namespace {

class LlamaCpp : public SharedServerTest<LlamaCpp> {};

json infill_body() {
  return {{"input_prefix", "def fib(n):\n    "}, {"input_suffix", "\n    return a\n"},
          {"input_extra", {{{"filename", "util.py"}, {"text", "def helper():\n    pass\n"}}}},
          {"n_predict", 6}, {"temperature", 0}, {"cache_prompt", true}};
}

void expect_summary_fields(const json& j) {
  for (const char* key : {"content", "stop", "model", "tokens_predicted", "tokens_evaluated", "generation_settings",
                          "prompt", "has_new_line", "truncated", "stop_type", "stopping_word", "tokens_cached", "timings"}) {
    EXPECT_TRUE(j.contains(key)) << key << " missing in " << j.dump();
  }
  for (const char* key : {"prompt_n", "prompt_ms", "prompt_per_token_ms", "prompt_per_second", "predicted_n",
                          "predicted_ms", "predicted_per_token_ms", "predicted_per_second", "cache_n"}) {
    EXPECT_TRUE(j["timings"].contains(key)) << key;
  }
}

TEST_F(LlamaCpp, Infill) {
  auto c = client();
  auto res = post_json(c, "/infill", infill_body());
  ASSERT_EQ(res->status, 200) << res->body;
  json j = json::parse(res->body);
  expect_summary_fields(j);
  EXPECT_TRUE(j["content"].is_string());
  EXPECT_EQ(j["stop"], true);
  EXPECT_EQ(j["tokens_predicted"], j["timings"]["predicted_n"]);
  EXPECT_TRUE(j["stop_type"] == "limit" || j["stop_type"] == "eos") << j["stop_type"];
  // BOS + "util.py\ndef helper():\n    pass\n" + FIM block
  const Tokenizer& tok = server_->tokenizer();
  auto fim = fim_prompt(tok, "def fib(n):\n    ", "\n    return a\n", false);
  auto extra = tok.encode("util.py\ndef helper():\n    pass\n", false);
  EXPECT_EQ(j["tokens_evaluated"], 1 + extra.size() + fim.size());
  EXPECT_EQ(j["tokens_cached"], j["tokens_evaluated"].get<int>() + j["tokens_predicted"].get<int>());
  // Again: the prompt is reused from the cache.
  json again = json::parse(post_json(c, "/infill", infill_body())->body);
  EXPECT_EQ(again["timings"]["cache_n"], j["tokens_evaluated"].get<int>() - 1);
  EXPECT_EQ(again["timings"]["prompt_n"], 1);
  EXPECT_EQ(again["content"], j["content"]);
}

TEST_F(LlamaCpp, InfillStream) {
  auto c = client();
  json body = infill_body();
  std::string plain = json::parse(post_json(c, "/infill", body)->body)["content"];
  body["stream"] = true;
  auto res = post_json(c, "/infill", body);
  ASSERT_EQ(res->status, 200);
  auto events = sse_data(res->body);
  ASSERT_GE(events.size(), 1u);
  std::string text;
  for (std::size_t i = 0; i < events.size(); ++i) {
    json e = json::parse(events[i]);
    ASSERT_TRUE(e.contains("content") && e.contains("stop")) << events[i];
    text += e["content"].get<std::string>();
    EXPECT_EQ(e["stop"], i + 1 == events.size());
    if (i + 1 == events.size()) expect_summary_fields(e);
  }
  EXPECT_EQ(text, plain);
}

TEST_F(LlamaCpp, PredictZeroOnlyCachesThePrompt) {
  auto c = client();
  json body = infill_body();
  body["n_predict"] = 0;
  json j = json::parse(post_json(c, "/infill", body)->body);
  EXPECT_EQ(j["content"], "");
  EXPECT_EQ(j["tokens_predicted"], 0);
  EXPECT_EQ(j["stop_type"], "limit");
}

TEST_F(LlamaCpp, Completion) {
  auto c = client();
  auto res = post_json(c, "/completion", {{"prompt", "Hello"}, {"n_predict", 4}, {"top_k", 1}, {"repeat_penalty", 1.1}});
  ASSERT_EQ(res->status, 200) << res->body;
  json j = json::parse(res->body);
  expect_summary_fields(j);
  EXPECT_EQ(j["tokens_predicted"], 4);
  EXPECT_EQ(j["generation_settings"]["top_k"], 1);
}

TEST_F(LlamaCpp, Health) {
  auto c = client();
  auto res = c.Get("/health");
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(json::parse(res->body)["status"], "ok");
}

TEST_F(LlamaCpp, ErrorsInLlamaCppShape) {
  auto c = client();
  auto check = [&](const std::string& path, const std::string& body, int status, const std::string& needle) {
    auto res = c.Post(path.c_str(), body, "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, status) << res->body;
    json j = json::parse(res->body);
    EXPECT_EQ(j["error"]["code"], status);
    EXPECT_TRUE(j["error"]["type"].is_string());
    EXPECT_NE(j["error"]["message"].get<std::string>().find(needle), std::string::npos) << res->body;
  };
  check("/infill", "{", 400, "invalid JSON");
  check("/infill", R"({"input_prefix": 5})", 400, "'input_prefix' must be a string");
  check("/infill", R"({"input_extra": [{"filename": 1}]})", 400, "input_extra[0].filename");
  check("/infill", R"({"input_extra": "x"})", 400, "'input_extra' must be an array");
  check("/infill", R"({"n_predict": -7})", 400, "n_predict");
  check("/infill", R"({"n_predict": 100000})", 400, "over the context");
  check("/completion", R"({"n_predict": 3})", 400, "prompt");
  check("/completion", R"({"prompt": "x", "temperature": -1})", 400, "temperature");
  check("/completion", R"({"prompt": "x", "stop": "\n", "seed": "x"})", 400, "seed");
  EXPECT_EQ(post_json(c, "/completion", {{"prompt", "x"}, {"n_predict", 1}, {"unknown_field", 1}})->status, 200);
}

}  // namespace
}  // namespace dsv2::test
