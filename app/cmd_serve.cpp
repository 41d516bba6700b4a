// dsv2 serve: the HTTP server (OpenAI, DeepSeek, llama.cpp and Ollama endpoints). This file
// only parses flags and wires the library pieces together; see src/server/.
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "command.h"
#include "model_flags.h"
#include "generate/engine.h"
#include "generate/generation_config.h"
#include "model/checkpoint.h"
#include "model/deepseek_v2.h"
#include "server/http_server.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace {

namespace fs = std::filesystem;

struct Options : dsv2::app::ModelFlags {
  std::string alias;
  dsv2::server::ServerOptions server;
  dsv2::EngineOptions engine{.parallel = 4};
  double timeout_s = 600, grace_s = 10;
  std::size_t max_body_mib = 8;
  bool quiet = false;
};

std::string model_id(const std::string& path, const std::string& alias) {
  if (!alias.empty()) return alias;
  fs::path p = fs::path(path).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  return p.filename().string();
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s == "BFLOAT16" ? "BF16" : s == "FLOAT16" ? "F16" : s == "FLOAT32" ? "F32" : s;
}

dsv2::server::ModelInfo model_info(const Options& o, const dsv2::Config& config) {
  dsv2::server::ModelInfo info;
  info.id = model_id(o.model, o.alias);
  info.path = fs::absolute(o.model).string();
  info.quantization = upper(config.torch_dtype);
  info.parameter_count = dsv2::count_params(config).total;
  info.context_length = config.max_position_embeddings;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(o.model, ec)) {
    if (entry.path().extension() == ".safetensors") info.size_bytes += entry.file_size(ec);
  }
  auto mtime = fs::last_write_time(fs::path(o.model) / "config.json", ec);
  if (!ec) {
    // file_clock and system_clock differ by a constant; measure it now (no clock_cast in libstdc++ 12).
    auto sys = mtime - fs::file_time_type::clock::now() + std::chrono::system_clock::now();
    info.created = std::chrono::duration_cast<std::chrono::seconds>(sys.time_since_epoch()).count();
  }
  return info;
}

// SIGINT/SIGTERM are blocked in every thread and taken by one waiting thread, so shutdown runs
// as ordinary code, not in a signal handler. A second signal cancels what is still running.
void serve_until_signalled(dsv2::server::HttpServer& server, const sigset_t& signals) {
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    std::fprintf(stderr, "dsv2 serve: signal %d, finishing requests in flight (again to cancel them)\n", sig);
    server.stop();
    sigwait(&signals, &sig);
    server.stop_now();
  });
  waiter.detach();  // it may wait forever for a second signal; the process ends without it
  server.run();
}

void run(Options& o) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before any thread starts, so all inherit it

  dsv2::Tokenizer tokenizer = dsv2::open_tokenizer(o.model);
  dsv2::GenerationConfig defaults = dsv2::load_generation_config(o.model, tokenizer.eos_id());
  dsv2::DeepseekV2 model(o.open(), o.threads, o.kv_type(), o.expand_prompts());
  dsv2::Engine engine(model, tokenizer, o.engine);

  o.server.request_timeout = std::chrono::milliseconds(static_cast<std::int64_t>(o.timeout_s * 1000));
  o.server.shutdown_grace = std::chrono::milliseconds(static_cast<std::int64_t>(o.grace_s * 1000));
  o.server.max_body_bytes = o.max_body_mib << 20;
  o.server.log_requests = !o.quiet;
  dsv2::server::HttpServer server(engine, o.server, model_info(o, model.config()), defaults);
  int port = server.bind();
  std::printf("dsv2 serve: %s listening on http://%s:%d\n", model_id(o.model, o.alias).c_str(),
              o.server.host.c_str(), port);
  std::fflush(stdout);
  serve_until_signalled(server, signals);
  std::fprintf(stderr, "dsv2 serve: stopped\n");
}

void setup(CLI::App& root) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = root.add_subcommand("serve", "HTTP server: OpenAI, DeepSeek FIM, llama.cpp and Ollama APIs");
  o->add_to(cmd);
  cmd->add_option("--alias", o->alias, "Model name clients use (default: the directory name)");
  cmd->add_option("--host", o->server.host, "Address to listen on (default: loopback only)")->capture_default_str();
  cmd->add_option("--port", o->server.port, "Port (0: any free port)")->capture_default_str()->check(CLI::Range(0, 65535));
  cmd->add_option("--api-key", o->server.api_key, "Require 'Authorization: Bearer KEY' (all but /health)");
  cmd->add_option("--parallel", o->engine.parallel, "Sequences generated at once (slots)")->capture_default_str()->check(CLI::Range(1, 256));
  cmd->add_option("--ctx", o->engine.ctx, "Context length per slot (prompt + output)")->capture_default_str()->check(CLI::Range(16, 1 << 24));
  cmd->add_option("--queue", o->engine.queue_limit, "Requests allowed to wait for a slot; more get 503")->capture_default_str()->check(CLI::Range(1, 4096));
  cmd->add_option("--step-tokens", o->engine.step_tokens, "Prompt tokens per engine step while other sequences decode")->capture_default_str()->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--idle-step-tokens", o->engine.idle_step_tokens, "Prompt tokens per engine step while no sequence decodes")->capture_default_str()->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--timeout", o->timeout_s, "Time limit per request, seconds")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--shutdown-grace", o->grace_s, "Seconds in-flight requests get on SIGINT/SIGTERM")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-body", o->max_body_mib, "Largest request body, MiB")->capture_default_str()->check(CLI::Range(1, 1024));
  cmd->add_flag("-q,--quiet", o->quiet, "No per-request log lines");
  cmd->callback([o] { run(*o); });
}

dsv2::app::RegisterCommand reg("serve", setup);

}  // namespace
