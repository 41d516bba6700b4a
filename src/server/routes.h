// Each API dialect registers its endpoints on the HTTP server (one file per dialect).
#pragma once

namespace httplib {
class Server;
}

namespace dsv2::server {

struct ServerContext;

void register_openai_routes(httplib::Server& http, ServerContext& ctx);    // openai.cpp
void register_llamacpp_routes(httplib::Server& http, ServerContext& ctx);  // llamacpp.cpp
void register_ollama_routes(httplib::Server& http, ServerContext& ctx);    // ollama.cpp

}  // namespace dsv2::server
