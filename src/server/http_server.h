// The HTTP front of the engine: routes of every dialect, API-key check, one log line per
// request, body size limit, and a graceful shutdown. Generation itself is the Engine's job;
// this class only turns HTTP requests into engine requests and events into responses.
#pragma once
#include <atomic>
#include <memory>
#include <mutex>
#include <thread>

#include "server/context.h"

namespace httplib {
class Server;
}

namespace dsv2::server {

class HttpServer {
 public:
  HttpServer(Engine& engine, ServerOptions options, ModelInfo model, GenerationConfig defaults);
  ~HttpServer();  // stops (as stop_now()) if still running and waits for in-flight requests
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds options.host:options.port (port 0: a free port) and returns the port. Throws Error.
  int bind();
  // Serves until stop() has finished. Call after bind(), from one thread.
  void run();
  // Graceful: new generation requests get 503, requests in flight get shutdown_grace to finish,
  // then are cancelled; then the listener closes and run() returns. Thread-safe, returns at once.
  void stop();
  // Cancels everything in flight now, then closes.
  void stop_now();

  int port() const { return port_; }
  ServerContext& context() { return *ctx_; }

 private:
  void install_hooks();
  void drain_and_close(std::chrono::milliseconds grace);
  bool wait_idle(std::chrono::milliseconds limit);

  std::unique_ptr<ServerContext> ctx_;
  std::unique_ptr<httplib::Server> http_;
  std::atomic<int> in_flight_{0};  // HTTP requests being handled (between routing and log)
  int port_ = -1;
  std::mutex stop_mu_;
  std::thread stopper_;
  bool stop_started_ = false;
};

}  // namespace dsv2::server
