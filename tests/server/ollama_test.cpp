// Ollama endpoints: NDJSON streams with the final done record, non-streamed answers, tags,
// show, and {"error": "..."} errors.
#include "harness.h"

using nlohmann::json;

namespace dsv2::test {
namespace {

class Ollama : public SharedServerTest<Ollama> {};

void expect_final_record(const json& j) {
  EXPECT_EQ(j["done"], true);
  EXPECT_EQ(j["model"], "text-bf16:latest");
  EXPECT_TRUE(j["created_at"].is_string());
  EXPECT_TRUE(j["done_reason"] == "stop" || j["done_reason"] == "length");
  for (const char* key : {"total_duration", "load_duration", "prompt_eval_count", "prompt_eval_duration",
                          "eval_count", "eval_duration"}) {
    EXPECT_TRUE(j[key].is_number_integer()) << key << " in " << j.dump();
  }
  EXPECT_GE(j["total_duration"].get<std::int64_t>(), j["eval_duration"].get<std::int64_t>());
}

TEST_F(Ollama, GenerateStreamsNdjsonByDefault) {
  auto c = client();
  json body = {{"model", "text-bf16"}, {"prompt", "Why is the sky blue?"}, {"options", {{"num_predict", 5}, {"temperature", 0}, {"seed", 3}, {"top_k", 10}, {"top_p", 0.9}, {"num_ctx", 512}, {"stop", {"zzz"}}}}};
  auto res = post_json(c, "/api/generate", body);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/x-ndjson");
  auto lines = ndjson_lines(res->body);
  ASSERT_GE(lines.size(), 2u);
  std::string text;
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    EXPECT_EQ(lines[i]["done"], false);
    EXPECT_EQ(lines[i]["model"], "text-bf16:latest");
    text += lines[i]["response"].get<std::string>();
  }
  const json& last = lines.back();
  expect_final_record(last);
  EXPECT_EQ(last["done_reason"], "length");
  EXPECT_EQ(last["eval_count"], 5);
  EXPECT_EQ(last["context"].size(), last["prompt_eval_count"].get<std::size_t>() + 5);
  // Non-streamed: one object with the whole response.
  body["stream"] = false;
  json one = json::parse(post_json(c, "/api/generate", body)->body);
  expect_final_record(one);
  EXPECT_EQ(one["response"], text + last["response"].get<std::string>());
  EXPECT_EQ(one["context"], last["context"]);
}

TEST_F(Ollama, GenerateWithSuffixAndRaw) {
  auto c = client();
  json fim = {{"model", "text-bf16"}, {"prompt", "def f(x):\n    return "}, {"suffix", "\n"}, {"stream", false},
              {"options", {{"num_predict", 4}}}};
  json j = json::parse(post_json(c, "/api/generate", fim)->body);
  expect_final_record(j);
  json raw = {{"model", "text-bf16"}, {"prompt", "abc"}, {"raw", true}, {"stream", false}, {"options", {{"num_predict", 2}}}};
  json r = json::parse(post_json(c, "/api/generate", raw)->body);
  EXPECT_EQ(r["prompt_eval_count"], 1 + server_->tokenizer().encode("abc", false).size());
}

TEST_F(Ollama, EmptyPromptLoadsTheModel) {
  auto c = client();
  json j = json::parse(post_json(c, "/api/generate", {{"model", "text-bf16"}})->body);
  EXPECT_EQ(j["done"], true);
  EXPECT_EQ(j["done_reason"], "load");
}

TEST_F(Ollama, Chat) {
  auto c = client();
  json body = {{"model", "text-bf16"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"options", {{"num_predict", 4}}}};
  auto lines = ndjson_lines(post_json(c, "/api/chat", body)->body);
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[0]["message"]["role"], "assistant");
  EXPECT_EQ(lines[0]["done"], false);
  expect_final_record(lines.back());
  EXPECT_FALSE(lines.back().contains("context"));
  body["stream"] = false;
  json j = json::parse(post_json(c, "/api/chat", body)->body);
  expect_final_record(j);
  EXPECT_EQ(j["message"]["role"], "assistant");
}

TEST_F(Ollama, TagsAndShow) {
  auto c = client();
  json tags = json::parse(c.Get("/api/tags")->body);
  ASSERT_EQ(tags["models"].size(), 1u);
  EXPECT_EQ(tags["models"][0]["name"], "text-bf16:latest");
  EXPECT_EQ(tags["models"][0]["details"]["family"], "deepseek2");
  json show = json::parse(post_json(c, "/api/show", {{"model", "text-bf16"}})->body);
  EXPECT_EQ(show["model_info"]["general.architecture"], "deepseek2");
  EXPECT_EQ(show["model_info"]["deepseek2.context_length"], 512);
  EXPECT_NE(std::find(show["capabilities"].begin(), show["capabilities"].end(), "insert"), show["capabilities"].end());
  EXPECT_NE(show["template"].get<std::string>().find("Assistant"), std::string::npos);
}

TEST_F(Ollama, ErrorsAreAString) {
  auto c = client();
  auto check = [&](const std::string& path, const std::string& body, int status, const std::string& needle) {
    auto res = c.Post(path.c_str(), body, "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, status) << res->body;
    json j = json::parse(res->body);
    ASSERT_TRUE(j["error"].is_string()) << res->body;
    EXPECT_NE(j["error"].get<std::string>().find(needle), std::string::npos) << res->body;
  };
  check("/api/generate", "{", 400, "invalid JSON");
  check("/api/generate", R"({"prompt": "x"})", 400, "model is required");
  check("/api/generate", R"({"model": "llama3", "prompt": "x"})", 404, "model 'llama3' not found");
  check("/api/generate", R"({"model": "text-bf16", "prompt": "x", "options": {"temperature": "warm"}})", 400, "options.temperature");
  check("/api/generate", R"({"model": "text-bf16", "prompt": "x", "options": {"num_predict": 9999}})", 400, "over the context");
  check("/api/generate", R"({"model": "text-bf16", "prompt": "x", "options": 3})", 400, "'options' must be an object");
  check("/api/chat", R"({"model": "text-bf16", "messages": [{"role": "robot", "content": "x"}]})", 400, "role");
  check("/api/chat", R"({"model": "text-bf16", "messages": "x"})", 400, "'messages' must be an array");
  check("/api/show", R"({"model": "nope"})", 404, "not found");
  EXPECT_EQ(post_json(c, "/api/generate", {{"model", "text-bf16:latest"}, {"prompt", "x"}, {"stream", false}, {"options", {{"num_predict", 1}}}})->status, 200);
}

}  // namespace
}  // namespace dsv2::test
