// HTTP errors and their bodies in each API dialect, so a client library sees the error shape it
// was written for:
//   OpenAI:    {"error": {"message", "type", "param", "code"}}
//   llama.cpp: {"error": {"code", "message", "type"}}
//   Ollama:    {"error": "message"}
#pragma once
#include <stdexcept>
#include <string>

namespace httplib {
struct Response;
}

namespace dsv2::server {

enum class Dialect { OpenAI, LlamaCpp, Ollama };

// Which dialect a path belongs to (/v1/*, /beta/* → OpenAI; /api/* → Ollama; else llama.cpp).
Dialect dialect_for_path(const std::string& path);

// Thrown by request handling; turned into a response by the server's exception handler.
class HttpError : public std::runtime_error {
 public:
  HttpError(int status, const std::string& message, std::string param = "", std::string code = "")
      : std::runtime_error(message), status_(status), param_(std::move(param)), code_(std::move(code)) {}
  int status() const { return status_; }
  const std::string& param() const { return param_; }  // the request field at fault, if any
  const std::string& code() const { return code_; }    // OpenAI's machine-readable code, if any

 private:
  int status_;
  std::string param_, code_;
};

// 400 naming a parameter: the common case.
inline HttpError bad_request(const std::string& message, const std::string& param = "") {
  return HttpError(400, message, param);
}

std::string error_body(Dialect dialect, const HttpError& error);

// Sets status, JSON body and, for 503, Retry-After.
void send_error(httplib::Response& res, Dialect dialect, const HttpError& error);

}  // namespace dsv2::server
