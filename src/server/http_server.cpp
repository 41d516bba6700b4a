#include "server/http_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <csignal>
#include <cstdio>
#include <set>

#include "server/errors.h"
#include "server/routes.h"
#include "server/sse.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace dsv2::server {
namespace {

using Clock = std::chrono::steady_clock;

// Per-request bookkeeping: one worker thread handles a request from routing to the log line.
thread_local Clock::time_point t_request_start;
thread_local bool t_counted = false;

const std::set<std::string>& known_routes() {
  static const std::set<std::string> routes = {
      "/v1/chat/completions", "/v1/completions", "/beta/completions", "/v1/models", "/completion",
      "/completions", "/infill", "/health", "/metrics", "/api/generate", "/api/chat", "/api/tags",
      "/api/show", "/api/version"};
  return routes;
}

std::string route_label(const std::string& path) {
  if (known_routes().count(path)) return path;
  return path.rfind("/v1/models/", 0) == 0 ? "/v1/models/{id}" : "other";
}

bool authorized(const httplib::Request& req, const std::string& key) {
  if (key.empty() || req.path == "/health") return true;
  return req.get_header_value("Authorization") == "Bearer " + key;
}

// Bodies for the errors httplib produces itself (unknown route, oversize body, bad syntax).
std::string default_message(int status, std::size_t max_body) {
  switch (status) {
    case 404: return "not found";
    case 405: return "method not allowed";
    case 413: return "request body too large (limit " + std::to_string(max_body) + " bytes)";
    case 414: return "request URI too long";
    default: return status >= 500 ? "internal server error" : "bad request";
  }
}

void handle_exception(const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
  Dialect dialect = dialect_for_path(req.path);
  try {
    std::rethrow_exception(ep);
  } catch (const HttpError& e) {
    send_error(res, dialect, e);
  } catch (const dsv2::Error& e) {
    send_error(res, dialect, HttpError(400, e.what()));
  } catch (const nlohmann::json::exception& e) {
    send_error(res, dialect, HttpError(400, e.what()));
  } catch (const std::exception& e) {
    send_error(res, dialect, HttpError(500, std::string("internal error: ") + e.what()));
  } catch (...) {
    send_error(res, dialect, HttpError(500, "internal error"));
  }
}

}  // namespace

HttpServer::HttpServer(Engine& engine, ServerOptions options, ModelInfo model, GenerationConfig defaults)
    : ctx_(new ServerContext{engine, engine.tokenizer(), std::move(options), std::move(model), std::move(defaults),
                             {}, {}, false, {}}),
      http_(std::make_unique<httplib::Server>()) {
  const ServerOptions& o = ctx_->options;
  // One worker per request that can be in the engine (running or queued) plus a few for
  // /health and /metrics, so the engine's queue limit, not the HTTP pool, decides who waits.
  std::size_t threads = o.http_threads > 0
                            ? std::size_t(o.http_threads)
                            : std::size_t(engine.options().parallel + engine.options().queue_limit + 4);
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http_->set_payload_max_length(o.max_body_bytes);
  http_->set_keep_alive_timeout(2);  // idle keep-alive connections hold up shutdown this long
  install_hooks();
  register_openai_routes(*http_, *ctx_);
  register_llamacpp_routes(*http_, *ctx_);
  register_ollama_routes(*http_, *ctx_);
  http_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(render_prometheus(ctx_->engine.stats(), ctx_->metrics), "text/plain; version=0.0.4");
  });
}

HttpServer::~HttpServer() {
  stop_now();
  std::lock_guard lock(stop_mu_);
  if (stopper_.joinable()) stopper_.join();
}

void HttpServer::install_hooks() {
  http_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    t_request_start = Clock::now();
    t_counted = true;
    ++in_flight_;
    if (authorized(req, ctx_->options.api_key)) return httplib::Server::HandlerResponse::Unhandled;
    res.set_header("WWW-Authenticate", "Bearer");
    send_error(res, dialect_for_path(req.path), HttpError(401, "invalid or missing API key", "", "invalid_api_key"));
    return httplib::Server::HandlerResponse::Handled;
  });
  http_->set_exception_handler(handle_exception);
  http_->set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;  // already a JSON error
    send_error(res, dialect_for_path(req.path), HttpError(res.status, default_message(res.status, ctx_->options.max_body_bytes)));
    return httplib::Server::HandlerResponse::Handled;
  }));
  // Counted before the response goes out (the logger runs after the last byte), so a client
  // that reads /metrics right after its answer sees that answer counted.
  http_->set_post_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    ctx_->metrics.count(route_label(req.path), res.status);
  });
  http_->set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    double ms = t_counted ? std::chrono::duration<double, std::milli>(Clock::now() - t_request_start).count() : 0.0;
    if (t_counted) --in_flight_;
    t_counted = false;
    if (ctx_->options.log_requests) {
      std::fprintf(stderr, "%s %s %s %d %.1fms\n", req.remote_addr.c_str(), req.method.c_str(), req.path.c_str(),
                   res.status, ms);
    }
  });
}

int HttpServer::bind() {
  const ServerOptions& o = ctx_->options;
  // cpp-httplib listens with a backlog of 5 (CPPHTTPLIB_LISTEN_BACKLOG, compiled into Debian's
  // library). A burst of new connections (16 clients, each stream on its own connection)
  // overflows it; the kernel then drops handshakes and first request bytes, and a connection
  // whose request arrives after the keep-alive wait is closed unanswered (the load test saw
  // this under load). The socket-options hook is handed the listening socket, and listen() on
  // a socket that already listens only changes its backlog.
  socket_t listener = INVALID_SOCKET;
  http_->set_socket_options([&listener](socket_t sock) {
    httplib::default_socket_options(sock);
    listener = sock;
  });
  port_ = o.port == 0 ? http_->bind_to_any_port(o.host) : (http_->bind_to_port(o.host, o.port) ? o.port : -1);
  http_->set_socket_options(httplib::default_socket_options);  // the hook must not outlive `listener`
  const std::string where = o.host + ":" + std::to_string(o.port);
  check(port_ > 0, "cannot listen on " + where + " (address in use or not local?)");
  check(::listen(listener, SOMAXCONN) == 0, "cannot raise the connection backlog on " + where);
  return port_;
}

void HttpServer::run() {
  std::signal(SIGPIPE, SIG_IGN);  // a client that hangs up must be a failed write, not a dead server
  http_->listen_after_bind();
}

bool HttpServer::wait_idle(std::chrono::milliseconds limit) {
  auto deadline = Clock::now() + limit;
  while (in_flight_ > 0 || ctx_->active.size() > 0) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

void HttpServer::drain_and_close(std::chrono::milliseconds grace) {
  {
    std::lock_guard lock(ctx_->draining_mu);
    ctx_->draining = true;
  }
  if (!wait_idle(grace)) {
    for (std::uint64_t id : ctx_->active.ids()) ctx_->engine.cancel(id);
    wait_idle(std::chrono::seconds(5));  // the cancelled requests write their last records
  }
  http_->stop();
}

void HttpServer::stop() {
  std::lock_guard lock(stop_mu_);
  if (stop_started_) return;
  stop_started_ = true;
  stopper_ = std::thread([this] { drain_and_close(ctx_->options.shutdown_grace); });
}

void HttpServer::stop_now() {
  {
    std::lock_guard lock(stop_mu_);
    if (stop_started_) {
      // A graceful stop is under way: cut its grace short.
      for (std::uint64_t id : ctx_->active.ids()) ctx_->engine.cancel(id);
      return;
    }
    stop_started_ = true;
  }
  drain_and_close(std::chrono::milliseconds(0));
}

}  // namespace dsv2::server
