#include "server/errors.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "server/sse.h"

namespace dsv2::server {
namespace {

// OpenAI's error types by status (what api.openai.com sends for each).
const char* openai_type(int status) {
  switch (status) {
    case 401: return "authentication_error";
    case 404: return "invalid_request_error";
    case 429: return "rate_limit_error";
    case 503: return "server_error";
    default: return status >= 500 ? "server_error" : "invalid_request_error";
  }
}

// llama.cpp server's error types (server-common's error_type names).
const char* llamacpp_type(int status) {
  switch (status) {
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 501: return "not_supported_error";
    case 503: return "unavailable_error";
    default: return status >= 500 ? "server_error" : "invalid_request_error";
  }
}

nlohmann::json null_if_empty(const std::string& s) {
  return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
}

}  // namespace

Dialect dialect_for_path(const std::string& path) {
  if (path.rfind("/v1/", 0) == 0 || path.rfind("/beta/", 0) == 0) return Dialect::OpenAI;
  if (path.rfind("/api/", 0) == 0) return Dialect::Ollama;
  return Dialect::LlamaCpp;
}

std::string error_body(Dialect dialect, const HttpError& e) {
  nlohmann::json body;
  switch (dialect) {
    case Dialect::OpenAI:
      body["error"] = {{"message", e.what()}, {"type", openai_type(e.status())},
                       {"param", null_if_empty(e.param())}, {"code", null_if_empty(e.code())}};
      break;
    case Dialect::LlamaCpp:
      body["error"] = {{"code", e.status()}, {"message", e.what()}, {"type", llamacpp_type(e.status())}};
      break;
    case Dialect::Ollama:
      body["error"] = e.what();
      break;
  }
  return dump_json(body);
}

void send_error(httplib::Response& res, Dialect dialect, const HttpError& error) {
  res.status = error.status();
  if (error.status() == 503) res.set_header("Retry-After", "1");
  res.set_content(error_body(dialect, error), "application/json");
}

}  // namespace dsv2::server
