// Test harness for the HTTP server: an in-process server over the text-bf16 golden model (real
// DeepSeek-V2 tokenizer, tiny random weights) bound to 127.0.0.1 on a free port, a `dsv2 serve`
// child process for signal and load tests, and small HTTP/SSE helpers.
#pragma once
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "generate/engine.h"
#include "generate/generation_config.h"
#include "model/checkpoint.h"
#include "model/deepseek_v2.h"
#include "server/http_server.h"
#include "support/fixtures.h"
#include "tokenizer/tokenizer.h"

namespace dsv2::test {

inline std::string server_model_dir() { return fixture("golden/text-bf16/model"); }

// The model and tokenizer are loaded once per test binary and shared by every server.
struct SharedModel {
  Tokenizer tokenizer;
  GenerationConfig defaults;
  DeepseekV2 model;

  static SharedModel& get() {
    static SharedModel m;
    return m;
  }

 private:
  SharedModel()
      : tokenizer(open_tokenizer(server_model_dir())),
        defaults(load_generation_config(server_model_dir(), tokenizer.eos_id())),
        model(Checkpoint::open_hf_dir(server_model_dir()), 2) {}
};

inline server::ServerOptions quiet_options() {
  server::ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.log_requests = false;
  o.shutdown_grace = std::chrono::milliseconds(2000);
  return o;
}

// An engine and HTTP server running in this process until destroyed.
class TestServer {
 public:
  explicit TestServer(EngineOptions engine = {.parallel = 2, .ctx = 512, .step_tokens = 256, .queue_limit = 16},
                      server::ServerOptions options = quiet_options()) {
    SharedModel& m = SharedModel::get();
    engine_ = std::make_unique<Engine>(m.model, m.tokenizer, engine);
    server::ModelInfo info;
    info.id = "text-bf16";
    info.path = server_model_dir();
    info.quantization = "BF16";
    info.parameter_count = 14'000'000;
    info.context_length = 163840;
    server_ = std::make_unique<server::HttpServer>(*engine_, options, info, m.defaults);
    port_ = server_->bind();
    thread_ = std::thread([this] { server_->run(); });
  }
  ~TestServer() {
    server_->stop_now();
    thread_.join();
    server_.reset();
    engine_.reset();
  }

  int port() const { return port_; }
  httplib::Client client(int timeout_s = 60) const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(timeout_s, 0);
    return c;
  }
  Engine& engine() { return *engine_; }
  server::HttpServer& server() { return *server_; }
  const Tokenizer& tokenizer() const { return SharedModel::get().tokenizer; }

 private:
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<server::HttpServer> server_;
  std::thread thread_;
  int port_ = 0;
};

// `data: ...` payloads of an SSE body, in order.
inline std::vector<std::string> sse_data(const std::string& body) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < body.size()) {
    std::size_t end = body.find('\n', pos);
    if (end == std::string::npos) end = body.size();
    std::string line = body.substr(pos, end - pos);
    if (line.rfind("data: ", 0) == 0) out.push_back(line.substr(6));
    pos = end + 1;
  }
  return out;
}

inline std::vector<nlohmann::json> ndjson_lines(const std::string& body) {
  std::vector<nlohmann::json> out;
  std::size_t pos = 0;
  while (pos < body.size()) {
    std::size_t end = body.find('\n', pos);
    if (end == std::string::npos) end = body.size();
    if (end > pos) out.push_back(nlohmann::json::parse(body.substr(pos, end - pos)));
    pos = end + 1;
  }
  return out;
}

inline httplib::Result post_json(httplib::Client& c, const std::string& path, const nlohmann::json& body,
                                 const httplib::Headers& headers = {}) {
  return c.Post(path.c_str(), headers, body.dump(), "application/json");
}

// POSTs and reads the streamed response until `keep_going(bytes_so_far)` says stop; returns
// what was received. Stopping early closes the connection mid-stream, like a client that quits.
// `how`, if given, gets how the exchange ended (the client's error or the HTTP status), for
// failure messages.
inline std::string post_stream(int port, const std::string& path, const nlohmann::json& body,
                               const std::function<bool(const std::string&)>& keep_going,
                               std::string* how = nullptr) {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(60, 0);
  std::string got;
  httplib::Request req;
  req.method = "POST";
  req.path = path;
  req.body = body.dump();
  req.set_header("Content-Type", "application/json");
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    got.append(data, n);
    return keep_going(got);
  };
  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  c.send(req, res, err);
  if (how) *how = "client: " + httplib::to_string(err) + ", status " + std::to_string(res.status);
  return got;
}

// `dsv2 serve` as a child process on a free port; killed (SIGKILL) if still running at the end.
class ServeProcess {
 public:
  explicit ServeProcess(std::vector<std::string> extra_args) {
    int out[2];
    if (pipe(out) != 0) throw std::runtime_error("pipe failed");
    // Built before fork: the child of a threaded process may only call async-signal-safe code.
    std::vector<std::string> args = {DSV2_BINARY, "serve", "-m", server_model_dir(), "--port", "0", "-q"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      close(out[0]);
      close(out[1]);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out[1]);
    out_ = fdopen(out[0], "r");
    char line[512];
    // "dsv2 serve: NAME listening on http://127.0.0.1:PORT"
    while (fgets(line, sizeof line, out_)) {
      std::string s = line;
      auto at = s.rfind(':');
      if (s.find("listening on") != std::string::npos && at != std::string::npos) {
        port_ = std::stoi(s.substr(at + 1));
        break;
      }
    }
  }
  ~ServeProcess() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_) fclose(out_);
  }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // Sends sig and waits up to timeout for the exit; returns the exit status or -1.
  int signal_and_wait(int sig, std::chrono::milliseconds timeout) {
    kill(pid_, sig);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }
  // Resident set size in KiB (from /proc).
  long rss_kib() const {
    std::string status = read_file("/proc/" + std::to_string(pid_) + "/status");
    auto at = status.find("VmRSS:");
    return at == std::string::npos ? -1 : std::stol(status.substr(at + 6));
  }

 private:
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
  int port_ = -1;
  bool exited_ = false;
};

// One server per test suite (starting it loads the model); Suite keeps each suite's own server.
template <class Suite>
class SharedServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new TestServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static httplib::Client client() { return server_->client(); }
  static inline TestServer* server_ = nullptr;
};

}  // namespace dsv2::test
