// What every endpoint handler shares: the engine, the options, what is known about the model,
// the model's generation defaults, metrics and the set of requests in flight.
#pragma once
#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "generate/engine.h"
#include "generate/generation_config.h"
#include "server/metrics.h"

namespace dsv2 {
class Tokenizer;
}

namespace dsv2::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                                // 0: any free port
  std::string api_key;                            // empty: no authentication
  std::size_t max_body_bytes = 8u << 20;          // larger bodies get 413
  std::chrono::milliseconds request_timeout{10 * 60 * 1000};  // per generation request
  std::chrono::milliseconds shutdown_grace{10 * 1000};  // in-flight requests get this long to finish
  int http_threads = 0;                           // 0: slots + engine queue limit + 4
  bool log_requests = true;                       // one line per request on stderr
};

// Facts about the served model for /v1/models, /api/tags and /api/show. The server does not
// look inside the model; whoever starts it fills this in.
struct ModelInfo {
  std::string id;                // the name clients use ("model": ...)
  std::string path;
  std::string family = "deepseek2";
  std::string format = "safetensors";
  std::string quantization;      // "BF16", "Q4_K", ...
  std::int64_t parameter_count = 0;
  std::int64_t context_length = 0;  // the model's maximum positions
  std::uint64_t size_bytes = 0;
  std::int64_t created = 0;         // unix seconds (file modification time)
};

// Engine request ids in flight, so shutdown can wait for them or cancel them.
class ActiveRequests {
 public:
  void add(std::uint64_t id);
  void remove(std::uint64_t id);
  std::vector<std::uint64_t> ids() const;
  std::size_t size() const;

 private:
  mutable std::mutex mu_;
  std::set<std::uint64_t> ids_;
};

struct ServerContext {
  Engine& engine;
  const Tokenizer& tokenizer;
  ServerOptions options;
  ModelInfo model;
  GenerationConfig defaults;  // sampling defaults and EOS ids for whatever a request leaves unset
  HttpMetrics metrics;
  ActiveRequests active;
  bool draining = false;      // set on shutdown: new generation requests get 503
  std::mutex draining_mu;

  bool is_draining() {
    std::lock_guard lock(draining_mu);
    return draining;
  }
};

}  // namespace dsv2::server
