// Load test (label: slow): `dsv2 serve` under 16 concurrent clients × 20 requests per round,
// mixing plain, streamed and abandoned-midway requests. Zero failures, every greedy output equal
// to the output of the same request run alone, and no resident-memory growth between rounds.
#include <atomic>
#include <cstdio>

#include "../server/harness.h"

using nlohmann::json;

namespace dsv2::test {
namespace {

constexpr int kClients = 16, kRequestsPerClient = 20, kRounds = 3;
constexpr int kMaxTokens = 8;

const std::vector<std::string>& prompts() {
  static const std::vector<std::string> p = {
      "def quicksort(xs):",  "The capital of France is", "SELECT name FROM users WHERE",
      "Once upon a time",    "#include <stdio.h>\nint main() {", "fn main() {\n    let",
      "1, 2, 3, 5, 8,",      "Dear Sir or Madam,"};
  return p;
}

std::string completion_text(httplib::Client& c, const std::string& prompt) {
  auto res = post_json(c, "/v1/completions", {{"prompt", prompt}, {"max_tokens", kMaxTokens}});
  if (!res || res->status != 200) return "<failed " + (res ? std::to_string(res->status) : "connect") + ">";
  return json::parse(res->body)["choices"][0]["text"];
}

std::string streamed_text(int port, const std::string& prompt) {
  std::string how;
  std::string body = post_stream(port, "/v1/completions", {{"prompt", prompt}, {"max_tokens", kMaxTokens}, {"stream", true}},
                                 [](const std::string&) { return true; }, &how);
  auto events = sse_data(body);
  if (events.empty() || events.back() != "[DONE]") return "<stream failed (" + how + "): '" + body.substr(0, 400) + "'>";
  std::string text;
  for (std::size_t i = 0; i + 1 < events.size(); ++i) text += json::parse(events[i])["choices"][0]["text"].get<std::string>();
  return text;
}

void abandon_midway(int port, const std::string& prompt) {
  int chunks = 0;
  post_stream(port, "/v1/completions", {{"prompt", prompt}, {"max_tokens", 200}, {"stream", true}},
              [&](const std::string&) { return ++chunks < 2; });
}

// One round: every client sends its requests one after another; returns the failures.
int run_round(int port, const std::vector<std::string>& expected, std::vector<std::string>& errors) {
  std::atomic<int> failures{0};
  std::mutex mu;
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      httplib::Client c("127.0.0.1", port);
      c.set_read_timeout(60, 0);
      for (int j = 0; j < kRequestsPerClient; ++j) {
        std::size_t k = static_cast<std::size_t>(i + j) % prompts().size();
        std::string got;
        switch ((i + j) % 3) {
          case 0: got = completion_text(c, prompts()[k]); break;
          case 1: got = streamed_text(port, prompts()[k]); break;
          default: abandon_midway(port, prompts()[k]); continue;
        }
        if (got != expected[k]) {
          ++failures;
          std::lock_guard lock(mu);
          errors.push_back("prompt " + std::to_string(k) + ": got '" + got + "' want '" + expected[k] + "'");
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  return failures;
}

TEST(ServerLoad, ConcurrentMixedRequests) {
  ServeProcess server({"--parallel", "4", "--ctx", "512", "--queue", "64", "-t", "2"});
  ASSERT_GT(server.port(), 0);
  httplib::Client c("127.0.0.1", server.port());
  c.set_read_timeout(60, 0);
  std::vector<std::string> expected;
  for (const auto& p : prompts()) expected.push_back(completion_text(c, p));

  std::vector<long> rss;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<std::string> errors;
    int failures = run_round(server.port(), expected, errors);
    EXPECT_EQ(failures, 0) << "round " << round << ": " << (errors.empty() ? "" : errors.front());
    rss.push_back(server.rss_kib());
  }
  std::printf("RSS KiB after each round: %ld %ld %ld\n", rss[0], rss[1], rss[2]);
  // The first round warms caches and allocator pools; later rounds must not grow.
  EXPECT_LT(rss.back() - rss[1], 8 * 1024) << "RSS KiB by round: " << rss[0] << ", " << rss[1] << ", " << rss[2];
  EXPECT_EQ(completion_text(c, prompts()[0]), expected[0]);
  EXPECT_EQ(server.signal_and_wait(SIGTERM, std::chrono::seconds(15)), 0);
}

}  // namespace
}  // namespace dsv2::test
