// OpenAI and DeepSeek endpoints over HTTP: response fields, SSE streams, and every kind of bad
// request answered with OpenAI's error shape while the server keeps working.
#include "harness.h"
#include "tokenizer/tokenizer.h"

using nlohmann::json;

namespace dsv2::test {
namespace {

class OpenAi : public SharedServerTest<OpenAi> {
 protected:
  static TestServer& server() { return *server_; }

  // POSTs and expects a JSON OpenAI error with this status; returns error.message.
  static std::string expect_error(const std::string& path, const std::string& body, int status) {
    auto c = client();
    auto res = c.Post(path.c_str(), body, "application/json");
    EXPECT_TRUE(res);
    if (!res) return "";
    EXPECT_EQ(res->status, status) << res->body;
    json j = json::parse(res->body);
    EXPECT_TRUE(j["error"].is_object()) << res->body;
    EXPECT_TRUE(j["error"].contains("type") && j["error"].contains("param") && j["error"].contains("code"));
    return j["error"]["message"].get<std::string>();
  }
};

json chat_body(int max_tokens = 8) {
  return {{"model", "text-bf16"},
          {"messages", {{{"role", "system"}, {"content", "Be brief."}}, {{"role", "user"}, {"content", "Hello"}}}},
          {"max_tokens", max_tokens}};
}

TEST_F(OpenAi, ChatCompletion) {
  auto c = client();
  auto res = post_json(c, "/v1/chat/completions", chat_body());
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  json j = json::parse(res->body);
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["model"], "text-bf16");
  EXPECT_EQ(j["id"].get<std::string>().rfind("chatcmpl-", 0), 0u);
  EXPECT_TRUE(j["created"].is_number_integer());
  ASSERT_EQ(j["choices"].size(), 1u);
  EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
  EXPECT_TRUE(j["choices"][0]["message"]["content"].is_string());
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  // "Be brief.\n\nUser: Hello\n\nAssistant:" after BOS, rendered by the template, BOS once.
  const Tokenizer& tok = server().tokenizer();
  auto expected = tok.encode("<｜begin▁of▁sentence｜>Be brief.\n\nUser: Hello\n\nAssistant:", false);
  EXPECT_EQ(j["usage"]["prompt_tokens"], expected.size());
  EXPECT_EQ(j["usage"]["completion_tokens"], 8);
  EXPECT_EQ(j["usage"]["total_tokens"], expected.size() + 8);
  EXPECT_TRUE(j["usage"]["prompt_tokens_details"]["cached_tokens"].is_number_integer());
}

TEST_F(OpenAi, RepeatedPromptReportsCachedTokens) {
  auto c = client();
  json body = chat_body(2);
  body["messages"][1]["content"] = "a prompt long enough to be worth caching, repeated twice";
  ASSERT_EQ(post_json(c, "/v1/chat/completions", body)->status, 200);
  auto res = post_json(c, "/v1/chat/completions", body);
  json j = json::parse(res->body);
  EXPECT_EQ(j["usage"]["prompt_tokens_details"]["cached_tokens"], j["usage"]["prompt_tokens"].get<int>() - 1);
}

TEST_F(OpenAi, ChatStreamMatchesNonStreamed) {
  auto c = client();
  json body = chat_body(12);
  std::string plain = json::parse(post_json(c, "/v1/chat/completions", body)->body)["choices"][0]["message"]["content"];
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  auto res = post_json(c, "/v1/chat/completions", body);
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/event-stream");
  auto events = sse_data(res->body);
  ASSERT_GE(events.size(), 4u);
  EXPECT_EQ(events.back(), "[DONE]");
  json first = json::parse(events[0]);
  EXPECT_EQ(first["object"], "chat.completion.chunk");
  EXPECT_EQ(first["choices"][0]["delta"]["role"], "assistant");
  EXPECT_TRUE(first.contains("usage") && first["usage"].is_null());
  std::string text;
  std::string finish;
  for (std::size_t i = 0; i + 2 < events.size(); ++i) {
    json e = json::parse(events[i]);
    EXPECT_EQ(e["id"], first["id"]);
    auto& choice = e["choices"][0];
    if (choice["delta"].contains("content")) text += choice["delta"]["content"].get<std::string>();
    if (!choice["finish_reason"].is_null()) finish = choice["finish_reason"];
  }
  EXPECT_EQ(text, plain);
  EXPECT_EQ(finish, "length");
  json usage = json::parse(events[events.size() - 2]);
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["completion_tokens"], 12);
}

TEST_F(OpenAi, StopStringEndsGeneration) {
  auto c = client();
  json body = chat_body(12);
  std::string full = json::parse(post_json(c, "/v1/chat/completions", body)->body)["choices"][0]["message"]["content"];
  ASSERT_GE(full.size(), 4u);
  body["stop"] = full.substr(2, 2);
  json j = json::parse(post_json(c, "/v1/chat/completions", body)->body);
  EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(j["choices"][0]["message"]["content"], full.substr(0, full.find(full.substr(2, 2))));
}

TEST_F(OpenAi, SeededSamplingRepeats) {
  auto c = client();
  json body = chat_body(10);
  body["temperature"] = 1.5;
  body["top_p"] = 0.95;
  body["seed"] = 1234;
  body["presence_penalty"] = 0.5;
  body["frequency_penalty"] = 0.5;
  auto a = json::parse(post_json(c, "/v1/chat/completions", body)->body);
  auto b = json::parse(post_json(c, "/v1/chat/completions", body)->body);
  EXPECT_EQ(a["choices"][0]["message"]["content"], b["choices"][0]["message"]["content"]);
}

TEST_F(OpenAi, MaxCompletionTokensWins) {
  auto c = client();
  json body = chat_body(10);
  body["max_completion_tokens"] = 3;
  json j = json::parse(post_json(c, "/v1/chat/completions", body)->body);
  EXPECT_EQ(j["usage"]["completion_tokens"], 3);
}

TEST_F(OpenAi, CompletionWithSuffixIsFim) {
  auto c = client();
  json body = {{"model", "text-bf16"}, {"prompt", "def add(a, b):\n    return "}, {"suffix", "\n\nprint(add(1, 2))\n"},
               {"max_tokens", 6}};
  auto res = post_json(c, "/v1/completions", body);
  ASSERT_EQ(res->status, 200) << res->body;
  json j = json::parse(res->body);
  EXPECT_EQ(j["object"], "text_completion");
  EXPECT_TRUE(j["choices"][0]["text"].is_string());
  const Tokenizer& tok = server().tokenizer();
  // BOS, fim_begin, prefix, fim_hole, suffix, fim_end
  auto n = 4 + tok.encode("def add(a, b):\n    return ", false).size() + tok.encode("\n\nprint(add(1, 2))\n", false).size();
  EXPECT_EQ(j["usage"]["prompt_tokens"], n);
  // DeepSeek's beta endpoint takes the same request.
  auto beta = post_json(c, "/beta/completions", body);
  ASSERT_EQ(beta->status, 200);
  EXPECT_EQ(json::parse(beta->body)["choices"][0]["text"], j["choices"][0]["text"]);
}

TEST_F(OpenAi, CompletionDefaultsTo16TokensAndEchoes) {
  auto c = client();
  json j = json::parse(post_json(c, "/v1/completions", {{"prompt", "Once upon a time"}, {"echo", true}})->body);
  EXPECT_EQ(j["usage"]["completion_tokens"], 16);
  EXPECT_EQ(j["choices"][0]["text"].get<std::string>().rfind("Once upon a time", 0), 0u);
}

TEST_F(OpenAi, CompletionStream) {
  auto c = client();
  json body = {{"prompt", "int main() {"}, {"max_tokens", 5}, {"stream", true}};
  auto res = post_json(c, "/v1/completions", body);
  auto events = sse_data(res->body);
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events.back(), "[DONE]");
  json last = json::parse(events[events.size() - 2]);
  EXPECT_EQ(last["choices"][0]["finish_reason"], "length");
  EXPECT_FALSE(last.contains("usage"));  // only with stream_options.include_usage
}

TEST_F(OpenAi, CompletionStreamEndsWithUsage) {
  auto c = client();
  json body = {{"prompt", "int main() {"}, {"max_tokens", 5}, {"stream", true},
               {"stream_options", {{"include_usage", true}}}};
  auto events = sse_data(post_json(c, "/v1/completions", body)->body);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.back(), "[DONE]");
  json finish = json::parse(events[events.size() - 3]), usage = json::parse(events[events.size() - 2]);
  EXPECT_EQ(finish["choices"][0]["finish_reason"], "length");
  EXPECT_TRUE(finish["usage"].is_null());
  EXPECT_EQ(usage["object"], "text_completion");
  EXPECT_EQ(usage["id"], finish["id"]);
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["completion_tokens"], 5);
  EXPECT_EQ(usage["usage"]["total_tokens"], usage["usage"]["prompt_tokens"].get<int>() + 5);
}

TEST_F(OpenAi, TokenIdPrompt) {
  auto c = client();
  auto res = post_json(c, "/v1/completions", {{"prompt", {100000, 1, 2, 3}}, {"max_tokens", 2}});
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(json::parse(res->body)["usage"]["prompt_tokens"], 4);
}

TEST_F(OpenAi, Models) {
  auto c = client();
  auto res = c.Get("/v1/models");
  json j = json::parse(res->body);
  EXPECT_EQ(j["object"], "list");
  EXPECT_EQ(j["data"][0]["id"], "text-bf16");
  EXPECT_EQ(j["data"][0]["object"], "model");
  EXPECT_EQ(c.Get("/v1/models/text-bf16")->status, 200);
  EXPECT_EQ(c.Get("/v1/models/gpt-4")->status, 404);
}

TEST_F(OpenAi, BadRequestsGetOpenAiErrorsAndTheServerCarriesOn) {
  const std::string chat = "/v1/chat/completions";
  EXPECT_NE(expect_error(chat, "{\"messages\": [", 400).find("invalid JSON"), std::string::npos);
  EXPECT_NE(expect_error(chat, "[]", 400).find("JSON object"), std::string::npos);
  EXPECT_NE(expect_error(chat, "{\"messages\": \"hi\"}", 400).find("'messages' must be an array"), std::string::npos);
  EXPECT_NE(expect_error(chat, "{\"messages\": []}", 400).find("non-empty"), std::string::npos);
  EXPECT_NE(expect_error(chat, "{}", 400).find("messages"), std::string::npos);
  EXPECT_NE(expect_error(chat, R"({"messages": [{"role": "wizard", "content": "x"}]})", 400).find("role"), std::string::npos);
  EXPECT_NE(expect_error(chat, R"({"messages": [{"role": "user", "content": 5}]})", 400).find("content"), std::string::npos);
  EXPECT_EQ(expect_error(chat, R"({"messages": [{"role": "user", "content": "x"}], "temperature": "hot"})", 400),
            "'temperature' must be a number, got string");
  EXPECT_NE(expect_error(chat, R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": -1})", 400).find("'max_tokens' must be between 1"), std::string::npos);
  EXPECT_NE(expect_error(chat, R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": 1e12})", 400).find("max_tokens"), std::string::npos);
  EXPECT_NE(expect_error(chat, R"({"messages": [{"role": "user", "content": "x"}], "top_p": 7})", 400).find("top_p"), std::string::npos);
  EXPECT_NE(expect_error(chat, R"({"messages": [{"role": "user", "content": "x"}], "n": 2})", 400).find("n = 1"), std::string::npos);
  EXPECT_EQ(expect_error(chat, R"({"messages": [{"role": "user", "content": "x"}], "frobnicate": true})", 400),
            "Unrecognized request argument supplied: frobnicate");
  EXPECT_NE(expect_error(chat, R"({"messages": [{"role": "user", "content": "x"}], "stream_options": {"include_usage": true}})", 400).find("stream"), std::string::npos);
  EXPECT_NE(expect_error(chat, "{\"messages\": [{\"role\": \"user\", \"content\": \"\xff\xfe\"}]}", 400).find("invalid JSON"), std::string::npos);
  EXPECT_NE(expect_error(chat, R"({"model": "gpt-4", "messages": [{"role": "user", "content": "x"}]})", 404).find("gpt-4"), std::string::npos);
  // 512-token context: 400 saying by how much.
  std::string msg = expect_error(chat, R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": 600})", 400);
  EXPECT_NE(msg.find("over the context of 512 tokens by"), std::string::npos) << msg;
  std::string big(3000, 'x');
  for (std::size_t i = 0; i < big.size(); i += 2) big[i] = ' ';
  msg = expect_error("/v1/completions", json({{"prompt", big}, {"max_tokens", 1}}).dump(), 400);
  EXPECT_NE(msg.find("by"), std::string::npos) << msg;
  EXPECT_NE(expect_error("/v1/completions", R"({"prompt": [1, 2, 999999]})", 400).find("outside the vocabulary"), std::string::npos);
  EXPECT_NE(expect_error("/v1/completions", R"({"prompt": ["a", "b"]})", 400).find("one per request"), std::string::npos);
  EXPECT_NE(expect_error("/v1/completions", R"({"max_tokens": 3})", 400).find("prompt"), std::string::npos);
  EXPECT_NE(expect_error("/v1/completions", R"({"prompt": "x", "stop": [1]})", 400).find("stop"), std::string::npos);
  // ...and the server still answers.
  auto c = client();
  EXPECT_EQ(post_json(c, chat, chat_body(2))->status, 200);
}

}  // namespace
}  // namespace dsv2::test
