// Server metrics in the Prometheus text exposition format (version 0.0.4): HTTP request counts
// kept here, token and scheduling figures taken from Engine::stats().
#pragma once
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "generate/engine.h"

namespace dsv2::server {

class HttpMetrics {
 public:
  // route: a known endpoint path, or "other" (so scanners cannot blow up the label set).
  void count(const std::string& route, int status);
  std::map<std::pair<std::string, int>, std::int64_t> snapshot() const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, std::int64_t> counts_;
};

std::string render_prometheus(const EngineStats& engine, const HttpMetrics& http);

}  // namespace dsv2::server
