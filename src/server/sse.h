// Wire framing for streamed responses: Server-Sent Events (OpenAI, llama.cpp) and
// newline-delimited JSON (Ollama).
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace dsv2::server {

// Compact JSON; invalid UTF-8 (a model can emit any bytes) becomes U+FFFD instead of throwing.
std::string dump_json(const nlohmann::json& value);

// "data: {json}\n\n"
std::string sse_event(const nlohmann::json& value);
// "data: [DONE]\n\n", OpenAI's end-of-stream marker.
std::string sse_done();
// "{json}\n"
std::string ndjson_line(const nlohmann::json& value);

constexpr const char* kSseContentType = "text/event-stream";
constexpr const char* kNdjsonContentType = "application/x-ndjson";

}  // namespace dsv2::server
