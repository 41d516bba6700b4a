// Error bodies in each dialect's shape, stream framing, Prometheus text.
#include <gtest/gtest.h>

#include <httplib.h>

#include "server/errors.h"
#include "server/metrics.h"
#include "server/sse.h"

using namespace dsv2::server;
using nlohmann::json;

TEST(Errors, DialectForPath) {
  EXPECT_EQ(dialect_for_path("/v1/chat/completions"), Dialect::OpenAI);
  EXPECT_EQ(dialect_for_path("/beta/completions"), Dialect::OpenAI);
  EXPECT_EQ(dialect_for_path("/api/generate"), Dialect::Ollama);
  EXPECT_EQ(dialect_for_path("/infill"), Dialect::LlamaCpp);
  EXPECT_EQ(dialect_for_path("/nope"), Dialect::LlamaCpp);
}

TEST(Errors, OpenAiShape) {
  json j = json::parse(error_body(Dialect::OpenAI, HttpError(400, "bad temp", "temperature")));
  EXPECT_EQ(j["error"]["message"], "bad temp");
  EXPECT_EQ(j["error"]["type"], "invalid_request_error");
  EXPECT_EQ(j["error"]["param"], "temperature");
  EXPECT_TRUE(j["error"]["code"].is_null());
  json nf = json::parse(error_body(Dialect::OpenAI, HttpError(404, "no model", "model", "model_not_found")));
  EXPECT_EQ(nf["error"]["code"], "model_not_found");
}

TEST(Errors, LlamaCppShape) {
  json j = json::parse(error_body(Dialect::LlamaCpp, HttpError(503, "busy")));
  EXPECT_EQ(j["error"]["code"], 503);
  EXPECT_EQ(j["error"]["message"], "busy");
  EXPECT_EQ(j["error"]["type"], "unavailable_error");
}

TEST(Errors, OllamaShape) {
  json j = json::parse(error_body(Dialect::Ollama, HttpError(404, "model 'x' not found")));
  EXPECT_EQ(j, json({{"error", "model 'x' not found"}}));
}

TEST(Errors, ServiceUnavailableSaysWhenToRetry) {
  httplib::Response res;
  send_error(res, Dialect::OpenAI, HttpError(503, "busy"));
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(res.get_header_value("Retry-After"), "1");
}

TEST(Framing, SseAndNdjson) {
  EXPECT_EQ(sse_event({{"a", 1}}), "data: {\"a\":1}\n\n");
  EXPECT_EQ(sse_done(), "data: [DONE]\n\n");
  EXPECT_EQ(ndjson_line({{"done", true}}), "{\"done\":true}\n");
}

TEST(Framing, InvalidUtf8IsReplacedNotThrown) {
  EXPECT_EQ(dump_json(json("a\xff" "b")), "\"a\xEF\xBF\xBD" "b\"");
}

TEST(Metrics, PrometheusText) {
  dsv2::EngineStats s;
  s.requests_total = 3;
  s.prompt_tokens_total = 100;
  s.cached_tokens_total = 20;
  s.generated_tokens_total = 50;
  s.prompt_seconds_total = 2;
  s.generation_seconds_total = 5;
  s.queued = 2;
  s.kv_tokens_used = 256;
  s.kv_tokens_capacity = 1024;
  s.steps_total = 7;
  s.routed_experts_read = 84;
  s.moe_layers = 2;
  HttpMetrics http;
  http.count("/v1/completions", 200);
  http.count("/v1/completions", 200);
  http.count("other", 404);
  std::string text = render_prometheus(s, http);
  EXPECT_NE(text.find("# TYPE dsv2_requests_total counter\ndsv2_requests_total 3\n"), std::string::npos);
  EXPECT_NE(text.find("dsv2_http_requests_total{route=\"/v1/completions\",code=\"200\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("dsv2_prompt_tokens_per_second 40\n"), std::string::npos);  // (100 - 20) / 2
  EXPECT_NE(text.find("dsv2_generation_tokens_per_second 10\n"), std::string::npos);
  EXPECT_NE(text.find("dsv2_requests_queued 2\n"), std::string::npos);
  EXPECT_NE(text.find("dsv2_kv_cache_usage_ratio 0.25\n"), std::string::npos);
  EXPECT_NE(text.find("dsv2_engine_steps_total 7\n"), std::string::npos);
  EXPECT_NE(text.find("dsv2_moe_routed_experts_read_total 84\n"), std::string::npos);
  EXPECT_NE(text.find("dsv2_moe_layers 2\n"), std::string::npos);
}
