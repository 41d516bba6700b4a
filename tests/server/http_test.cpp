// Server-wide behaviour: API key, body limit, unknown routes, metrics, queue limit, client
// disconnects, time limits, concurrent requests, and graceful shutdown of `dsv2 serve`.
#include <atomic>

#include "harness.h"

using nlohmann::json;

namespace dsv2::test {
namespace {

json long_request(int max_tokens = 400) {
  return {{"prompt", "Count: one two three"}, {"max_tokens", max_tokens}, {"stream", true}};
}

bool wait_for(const std::function<bool()>& cond, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

TEST(Http, ApiKeyGuardsEverythingButHealth) {
  auto options = quiet_options();
  options.api_key = "sekret";
  TestServer s({.parallel = 1, .ctx = 256}, options);
  auto c = s.client();
  EXPECT_EQ(c.Get("/health")->status, 200);
  for (const char* path : {"/v1/models", "/metrics", "/api/tags"}) {
    auto res = c.Get(path);
    EXPECT_EQ(res->status, 401) << path;
    EXPECT_TRUE(json::parse(res->body).contains("error"));
  }
  auto res = post_json(c, "/v1/completions", {{"prompt", "x"}, {"max_tokens", 1}});
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(json::parse(res->body)["error"]["code"], "invalid_api_key");
  EXPECT_EQ(json::parse(post_json(c, "/api/generate", {{"model", "text-bf16"}})->body)["error"], "invalid or missing API key");
  EXPECT_EQ(c.Get("/v1/models", {{"Authorization", "Bearer wrong"}})->status, 401);
  EXPECT_EQ(c.Get("/v1/models", {{"Authorization", "Bearer sekret"}})->status, 200);
  EXPECT_EQ(post_json(c, "/v1/completions", {{"prompt", "x"}, {"max_tokens", 1}}, {{"Authorization", "Bearer sekret"}})->status, 200);
}

TEST(Http, OversizeBodyIs413AndUnknownRouteIs404) {
  auto options = quiet_options();
  options.max_body_bytes = 4096;
  TestServer s({.parallel = 1, .ctx = 256}, options);
  auto c = s.client();
  auto res = c.Post("/v1/completions", std::string(10000, ' '), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  EXPECT_NE(json::parse(res->body)["error"]["message"].get<std::string>().find("too large"), std::string::npos);
  auto again = s.client();
  auto nf = again.Get("/v2/nothing");
  EXPECT_EQ(nf->status, 404);
  EXPECT_TRUE(json::parse(nf->body)["error"].is_object());
  EXPECT_EQ(json::parse(again.Get("/api/nothing")->body)["error"], "not found");
  EXPECT_EQ(post_json(again, "/v1/completions", {{"prompt", "x"}, {"max_tokens", 1}})->status, 200);
}

TEST(Http, Metrics) {
  TestServer s({.parallel = 2, .ctx = 256});
  auto c = s.client();
  ASSERT_EQ(post_json(c, "/v1/completions", {{"prompt", "hello"}, {"max_tokens", 3}})->status, 200);
  ASSERT_EQ(c.Get("/v2/nothing")->status, 404);
  // Each answer is counted before it is sent: reading /metrics right after must see it.
  auto res = c.Get("/metrics");
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type").rfind("text/plain", 0), 0u);
  for (const char* needle : {"dsv2_requests_total 1\n", "dsv2_generated_tokens_total 3\n",
                             "dsv2_http_requests_total{route=\"/v1/completions\",code=\"200\"} 1\n",
                             "dsv2_http_requests_total{route=\"other\",code=\"404\"} 1\n",
                             "dsv2_prompt_tokens_per_second ", "dsv2_generation_tokens_per_second ",
                             "dsv2_requests_queued 0\n", "dsv2_kv_cache_tokens_capacity 512\n",
                             "dsv2_engine_steps_total ", "dsv2_moe_routed_experts_read_total ", "dsv2_moe_layers "}) {
    EXPECT_NE(res->body.find(needle), std::string::npos) << needle << "\n" << res->body;
  }
}

TEST(Http, FullQueueIs503WithRetryAfter) {
  // One slot and room for one waiting request: the third concurrent request is refused.
  TestServer s({.parallel = 1, .ctx = 512, .step_tokens = 256, .queue_limit = 1});
  std::atomic<bool> release{false};
  auto hold = [&] {
    post_stream(s.port(), "/v1/completions", long_request(450), [&](const std::string&) { return !release.load(); });
  };
  std::thread running(hold);
  ASSERT_TRUE(wait_for([&] { return s.engine().stats().active == 1; }));
  std::thread waiting(hold);
  ASSERT_TRUE(wait_for([&] { return s.engine().stats().queued == 1; }));
  auto c = s.client();
  auto res = post_json(c, "/v1/completions", {{"prompt", "x"}, {"max_tokens", 1}});
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(res->get_header_value("Retry-After"), "1");
  EXPECT_EQ(json::parse(res->body)["error"]["type"], "server_error");
  auto llama = post_json(c, "/completion", {{"prompt", "x"}, {"n_predict", 1}});
  EXPECT_EQ(llama->status, 503);
  EXPECT_EQ(json::parse(llama->body)["error"]["type"], "unavailable_error");
  release = true;
  running.join();
  waiting.join();
  EXPECT_TRUE(wait_for([&] { return s.engine().stats().active == 0 && s.engine().stats().queued == 0; }));
  EXPECT_EQ(post_json(c, "/v1/completions", {{"prompt", "x"}, {"max_tokens", 1}})->status, 200);
}

TEST(Http, DisconnectCancelsTheSequence) {
  TestServer s({.parallel = 1, .ctx = 512});
  for (const char* path : {"/v1/completions", "/infill", "/api/generate"}) {
    json body = long_request(480);
    body["model"] = "text-bf16";
    body["n_predict"] = 480;
    body["options"] = {{"num_predict", 480}};
    body["input_prefix"] = "x";
    int chunks = 0;
    post_stream(s.port(), path, body, [&](const std::string&) { return ++chunks < 3; });
    // The engine stops well before 480 tokens: the slot is free again almost at once.
    ASSERT_TRUE(wait_for([&] { return s.engine().stats().active == 0; }, std::chrono::seconds(5))) << path;
    EXPECT_LT(s.engine().stats().generated_tokens_total, 480) << path;
  }
  auto c = s.client();
  EXPECT_EQ(post_json(c, "/v1/completions", {{"prompt", "x"}, {"max_tokens", 2}})->status, 200);
}

TEST(Http, PerRequestTimeLimit) {
  TestServer s({.parallel = 1, .ctx = 512});
  auto c = s.client();
  auto res = post_json(c, "/completion", {{"prompt", "x"}, {"n_predict", 500}, {"t_max_predict_ms", 1}});
  ASSERT_EQ(res->status, 200);
  json j = json::parse(res->body);
  EXPECT_EQ(j["stop_type"], "limit");
  EXPECT_LT(j["tokens_predicted"].get<int>(), 500);
}

TEST(Http, ConcurrentGreedyRequestsMatchSequentialOnes) {
  TestServer s({.parallel = 4, .ctx = 256});
  std::vector<std::string> prompts = {"alpha", "beta gamma", "delta epsilon zeta", "eta", "theta iota", "kappa"};
  std::vector<std::string> sequential, concurrent(prompts.size());
  auto c = s.client();
  for (const auto& p : prompts) {
    sequential.push_back(json::parse(post_json(c, "/v1/completions", {{"prompt", p}, {"max_tokens", 10}})->body)["choices"][0]["text"]);
  }
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    threads.emplace_back([&, i] {
      auto ci = s.client();
      auto res = post_json(ci, "/v1/completions", {{"prompt", prompts[i]}, {"max_tokens", 10}});
      concurrent[i] = json::parse(res->body)["choices"][0]["text"];
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(concurrent, sequential);
}

TEST(Http, ServeCommandShutsDownGracefullyOnSigterm) {
  ServeProcess p({"--alias", "text-bf16", "--ctx", "512", "--parallel", "1"});
  ASSERT_GT(p.port(), 0);
  std::string got;
  std::atomic<bool> streaming{false};
  std::thread client([&] {
    got = post_stream(p.port(), "/v1/completions", long_request(200), [&](const std::string& so_far) {
      streaming = !so_far.empty();
      return true;
    });
  });
  ASSERT_TRUE(wait_for([&] { return streaming.load(); }));
  EXPECT_EQ(p.signal_and_wait(SIGTERM, std::chrono::seconds(15)), 0);
  client.join();
  // The request in flight finished normally.
  auto events = sse_data(got);
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events.back(), "[DONE]");
  EXPECT_EQ(json::parse(events[events.size() - 2])["choices"][0]["finish_reason"], "length");
  httplib::Client after("127.0.0.1", p.port());
  after.set_connection_timeout(1, 0);
  EXPECT_FALSE(after.Get("/health"));
}

}  // namespace
}  // namespace dsv2::test
