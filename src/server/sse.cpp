#include "server/sse.h"

namespace dsv2::server {

std::string dump_json(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string sse_event(const nlohmann::json& value) { return "data: " + dump_json(value) + "\n\n"; }

std::string sse_done() { return "data: [DONE]\n\n"; }

std::string ndjson_line(const nlohmann::json& value) { return dump_json(value) + "\n"; }

}  // namespace dsv2::server
