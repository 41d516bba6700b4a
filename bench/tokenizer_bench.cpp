// Tokenizer throughput: encodes a large code file on one thread and reports MB/s of input.
//   DSV2_BENCH_CORPUS  the text to encode (default: the first 5 MB of distinct C++ headers
//                      under /usr/include/c++/12, in path order, concatenated in memory — no file
//                      twice, so caches only see the repetition real code has)
//   DSV2_BENCH_MODEL   tokenizer to use (default: shared/fixtures/tokenizer/deepseek-v2)
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "io/mapped_file.h"
#include "tokenizer/tokenizer.h"

namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

const std::string& corpus() {
  static const std::string text = [] {
    std::string path = env_or("DSV2_BENCH_CORPUS", "");
    if (!path.empty()) return dsv2::read_text_file(path);
    std::vector<std::string> files;
    for (const auto& e : std::filesystem::recursive_directory_iterator("/usr/include/c++/12")) {
      if (e.is_regular_file()) files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    std::string all;
    for (const auto& f : files) {
      if (all.size() >= 5'000'000) break;
      all += dsv2::read_text_file(f);
    }
    return all;
  }();
  return text;
}

const dsv2::Tokenizer& tokenizer() {
  static const dsv2::Tokenizer tok =
      dsv2::open_tokenizer(env_or("DSV2_BENCH_MODEL", std::string(DSV2_SHARED_DIR) + "/fixtures/tokenizer/deepseek-v2"));
  return tok;
}

void BM_EncodeCode(benchmark::State& state) {
  const std::string& text = corpus();
  const dsv2::Tokenizer& tok = tokenizer();
  std::size_t n_tokens = 0;
  for (auto _ : state) {
    auto ids = tok.encode(text, false);
    n_tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
  state.counters["MB"] = static_cast<double>(text.size()) / 1e6;
  state.counters["tokens"] = static_cast<double>(n_tokens);
}
BENCHMARK(BM_EncodeCode)->Unit(benchmark::kMillisecond)->MinTime(3.0);

// Many short prompts: per-call overhead (no repeated pieces to reuse).
void BM_EncodeLines(benchmark::State& state) {
  const std::string& text = corpus();
  std::vector<std::string_view> lines;
  for (std::size_t pos = 0; pos < text.size() && lines.size() < 20000;) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    lines.emplace_back(text.data() + pos, nl - pos + (nl < text.size()));
    pos = nl + 1;
  }
  std::size_t bytes = 0;
  for (auto l : lines) bytes += l.size();
  const dsv2::Tokenizer& tok = tokenizer();
  for (auto _ : state) {
    for (auto l : lines) benchmark::DoNotOptimize(tok.encode(l, false).data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_EncodeLines)->Unit(benchmark::kMillisecond);

void BM_Decode(benchmark::State& state) {
  const dsv2::Tokenizer& tok = tokenizer();
  const auto ids = tok.encode(corpus(), false);
  for (auto _ : state) benchmark::DoNotOptimize(tok.decode(ids).data());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * corpus().size()));
}
BENCHMARK(BM_Decode)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
