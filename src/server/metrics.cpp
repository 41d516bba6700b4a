#include "server/metrics.h"

#include <cstdio>

namespace dsv2::server {
namespace {

void metric(std::string& out, const char* name, const char* type, const char* help, double value) {
  char buf[512];
  std::snprintf(buf, sizeof buf, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name, value);
  out += buf;
}

double rate(double count, double seconds) { return seconds > 0 ? count / seconds : 0.0; }

}  // namespace

void HttpMetrics::count(const std::string& route, int status) {
  std::lock_guard lock(mu_);
  ++counts_[{route, status}];
}

std::map<std::pair<std::string, int>, std::int64_t> HttpMetrics::snapshot() const {
  std::lock_guard lock(mu_);
  return counts_;
}

std::string render_prometheus(const EngineStats& e, const HttpMetrics& http) {
  std::string out;
  out += "# HELP dsv2_http_requests_total HTTP requests answered, by route and status code.\n";
  out += "# TYPE dsv2_http_requests_total counter\n";
  for (const auto& [key, n] : http.snapshot()) {
    out += "dsv2_http_requests_total{route=\"" + key.first + "\",code=\"" + std::to_string(key.second) +
           "\"} " + std::to_string(n) + "\n";
  }
  metric(out, "dsv2_requests_total", "counter", "Generation requests finished by the engine.", double(e.requests_total));
  metric(out, "dsv2_prompt_tokens_total", "counter", "Prompt tokens received (cached ones included).", double(e.prompt_tokens_total));
  metric(out, "dsv2_prompt_tokens_cached_total", "counter", "Prompt tokens served from a reused KV cache prefix.", double(e.cached_tokens_total));
  metric(out, "dsv2_generated_tokens_total", "counter", "Tokens generated.", double(e.generated_tokens_total));
  metric(out, "dsv2_prompt_seconds_total", "counter", "Time spent processing prompts.", e.prompt_seconds_total);
  metric(out, "dsv2_generation_seconds_total", "counter", "Time spent generating tokens.", e.generation_seconds_total);
  metric(out, "dsv2_prompt_tokens_per_second", "gauge", "Average prompt processing throughput.",
         rate(double(e.prompt_tokens_total - e.cached_tokens_total), e.prompt_seconds_total));
  metric(out, "dsv2_generation_tokens_per_second", "gauge", "Average generation throughput.",
         rate(double(e.generated_tokens_total), e.generation_seconds_total));
  metric(out, "dsv2_engine_steps_total", "counter", "Forward passes (one per step over all active sequences).", double(e.steps_total));
  metric(out, "dsv2_moe_routed_experts_read_total", "counter",
         "Routed experts read: per step and MoE layer, the distinct experts the batch's tokens chose.", double(e.routed_experts_read));
  metric(out, "dsv2_moe_layers", "gauge", "MoE layers of the model.", double(e.moe_layers));
  metric(out, "dsv2_requests_active", "gauge", "Requests being processed.", e.active);
  metric(out, "dsv2_requests_queued", "gauge", "Requests waiting for a free slot.", e.queued);
  metric(out, "dsv2_slots", "gauge", "Sequence slots.", e.slots);
  metric(out, "dsv2_kv_cache_tokens_used", "gauge", "KV cache positions in use (idle slots keep theirs for prefix reuse).", double(e.kv_tokens_used));
  metric(out, "dsv2_kv_cache_tokens_capacity", "gauge", "KV cache positions in all slots.", double(e.kv_tokens_capacity));
  metric(out, "dsv2_kv_cache_usage_ratio", "gauge", "KV cache used / capacity.",
         e.kv_tokens_capacity > 0 ? double(e.kv_tokens_used) / double(e.kv_tokens_capacity) : 0.0);
  return out;
}

}  // namespace dsv2::server
