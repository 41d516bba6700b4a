#include "tools/bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iterator>
#include <memory>
#include <random>

#include "kernels/kernels.h"
#include "kernels/thread_pool.h"
#include "model/deepseek_v2.h"

namespace dsv2::tools {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

MeanSd summarize(const std::vector<double>& v) {
  double mean = 0, var = 0;
  for (double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  for (double x : v) var += (x - mean) * (x - mean);
  return {mean, v.size() > 1 ? std::sqrt(var / static_cast<double>(v.size() - 1)) : 0.0};
}

std::vector<std::int32_t> random_tokens(std::int64_t n, std::int64_t vocab, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::int32_t> t(static_cast<std::size_t>(n));
  for (auto& v : t) v = static_cast<std::int32_t>(rng() % static_cast<std::uint64_t>(vocab));
  return t;
}

// Forwards tokens[0, n) at positions pos0.. into cache in one batch; logits for the last row only.
// prompt: the rows are prompt tokens (else generated ones, one at a time).
void forward_rows(DeepseekV2& m, KvCache& cache, const std::int32_t* tokens, std::int64_t n, std::int64_t pos0,
                  bool prompt, std::vector<BatchRow>& rows, std::vector<float>& logits) {
  rows.resize(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) rows[static_cast<std::size_t>(i)] = {tokens[i], pos0 + i, &cache, i == n - 1, prompt};
  m.forward(rows, logits.data());
}

// n prompt tokens in forwards of `ubatch` (0: all in one).
double bench_pp(DeepseekV2& m, std::int64_t n, std::int64_t ubatch, std::uint64_t seed) {
  KvCache cache = m.new_cache(n);
  const auto tokens = random_tokens(n, m.config().vocab_size, seed);
  std::vector<BatchRow> rows;
  std::vector<float> logits(static_cast<std::size_t>(m.config().vocab_size));
  const std::int64_t step = ubatch > 0 ? ubatch : n;
  const auto t0 = Clock::now();
  for (std::int64_t p = 0; p < n; p += step)
    forward_rows(m, cache, tokens.data() + p, std::min(step, n - p), p, true, rows, logits);
  return static_cast<double>(n) / seconds_since(t0);
}

// n decode steps after a short prompt; each step feeds the previous step's argmax-free token
// (a fixed random stream: generation speed does not depend on which token comes next).
double bench_tg(DeepseekV2& m, std::int64_t n, std::int64_t depth, std::uint64_t seed) {
  const std::int64_t kPrompt = std::max<std::int64_t>(8, depth);
  KvCache cache = m.new_cache(kPrompt + n);
  const auto tokens = random_tokens(kPrompt + n, m.config().vocab_size, seed);
  std::vector<BatchRow> rows;
  std::vector<float> logits(static_cast<std::size_t>(m.config().vocab_size));
  forward_rows(m, cache, tokens.data(), kPrompt, 0, true, rows, logits);
  const auto t0 = Clock::now();
  for (std::int64_t i = 0; i < n; ++i) forward_rows(m, cache, tokens.data() + kPrompt + i, 1, kPrompt + i, false, rows, logits);
  return static_cast<double>(n) / seconds_since(t0);
}

}  // namespace

namespace {

// The routed experts' matrices, layer by layer, up to `bytes` in all: contiguous megabytes each.
std::vector<const Tensor*> expert_matrices(const ModelWeights& w, std::size_t bytes) {
  std::vector<const Tensor*> out;
  std::size_t total = 0;
  for (const LayerWeights& l : w.layers)
    for (const MlpWeights& e : l.moe.experts)
      for (const Tensor* t : {&e.gate, &e.up, &e.down}) {
        if (total >= bytes) return out;
        out.push_back(t);
        total += t->nbytes();
      }
  return out;
}

double mlp_bytes(const MlpWeights& m) {
  return static_cast<double>(m.gate.nbytes() + m.up.nbytes() + m.down.nbytes());
}

double attention_bytes(const MlaWeights& a) {
  double total = 0;
  for (const Tensor* t : {&a.q_proj, &a.q_a_proj, &a.q_b_proj, &a.kv_a_proj, &a.o_proj})
    if (t->data != nullptr) total += static_cast<double>(t->nbytes());
  for (const Tensor& t : a.uk_t) total += static_cast<double>(t.nbytes());
  for (const Tensor& t : a.uv) total += static_cast<double>(t.nbytes());
  return total;
}

// Reads every matrix of `items` whole, split over the pool's threads, prefetching `pf` ahead;
// returns the seconds it took.
double read_all(const std::vector<const Tensor*>& items, ThreadPool& pool, kernels::PrefetchDistances pf) {
  const auto read = kernels::active_kernels().stream_read;
  std::vector<std::uint64_t> sums(static_cast<std::size_t>(pool.size()) * 8);
  const auto t0 = Clock::now();
  pool.parallel_for(static_cast<std::int64_t>(items.size()), [&](std::int64_t b, std::int64_t e, int t) {
    for (std::int64_t i = b; i < e; ++i) {
      const Tensor& m = *items[static_cast<std::size_t>(i)];
      sums[static_cast<std::size_t>(t) * 8] += read(m.data, m.nbytes(), pf);  // keeps the reads alive
    }
  });
  return seconds_since(t0);
}

}  // namespace

void touch_weights(const DeepseekV2& model, ThreadPool& pool) {
  read_all(matmul_weights(model.weights()), pool, kernels::prefetch_distances(DType::Q4_0_R16));
}

double measure_read_bandwidth(const DeepseekV2& model, ThreadPool& pool, std::size_t bytes) {
  const std::vector<const Tensor*> items = expert_matrices(model.weights(), bytes);
  if (items.empty()) return 0;
  std::size_t total = 0;
  for (const Tensor* t : items) total += t->nbytes();
  // Which prefetch streams fastest depends on the CPU (kernels.h), so the probe keeps the best of
  // L1 only and L2 only, each with and without the page prefetch, the L2 and L2 + page schemes
  // with the non-temporal hint, and the kernels' own distances: a roofline from a slower scheme
  // would overstate every share.
  constexpr std::size_t kPage = kernels::kPagePrefetch;
  const kernels::PrefetchDistances schemes[] = {{1024, 0, 0}, {0, 12288, 0}, {1024, 0, kPage}, {0, 12288, kPage},
                                                {0, 12288, 0, true}, {0, 12288, kPage, true},
                                                kernels::prefetch_distances(DType::Q4_0_R16),
                                                kernels::prefetch_distances(DType::Q8_0_R16)};
  constexpr int kSchemes = std::size(schemes);
  double best = 0;
  for (int pass = 0; pass < 2 * kSchemes; ++pass)
    best = std::max(best, static_cast<double>(total) / read_all(items, pool, schemes[pass % kSchemes]) / 1e9);
  return best;
}

double weight_bytes_per_token(const DeepseekV2& model) {
  const Config& c = model.config();
  const ModelWeights& w = model.weights();
  double total = static_cast<double>(w.lm_head.nbytes());
  for (const LayerWeights& l : w.layers) {
    total += attention_bytes(l.attn);
    if (!l.is_moe) {
      total += mlp_bytes(l.mlp);
      continue;
    }
    total += static_cast<double>(l.moe.router.nbytes()) +
             static_cast<double>(c.num_experts_per_tok) * mlp_bytes(l.moe.experts[0]);
    if (l.moe.has_shared) total += mlp_bytes(l.moe.shared);
  }
  return total;
}

std::vector<BenchResult> run_bench(DeepseekV2& m, const BenchOptions& opt) {
  std::vector<BenchResult> out;
  if (opt.n_prompt > 0) {
    // Warm-up at the full size, as llama-bench does: scratch buffers grow to what n_prompt rows
    // need (page faults included) here, not in the first timed repetition.
    bench_pp(m, opt.n_prompt, opt.ubatch, opt.seed);
    std::vector<double> tps;
    for (int r = 0; r < opt.reps; ++r)
      tps.push_back(bench_pp(m, opt.n_prompt, opt.ubatch, opt.seed + static_cast<std::uint64_t>(r)));
    std::string name = "pp" + std::to_string(opt.n_prompt);
    if (opt.ubatch > 0 && opt.ubatch < opt.n_prompt) name += " (b" + std::to_string(opt.ubatch) + ")";
    out.push_back({name, summarize(tps), {}, {}});
  }
  if (opt.n_gen > 0) {
    touch_weights(m, m.pool());
    bench_tg(m, 2, 0, opt.seed);
    const double bytes = weight_bytes_per_token(m);
    std::vector<double> tps, gbs, pct;
    for (int r = 0; r < opt.reps; ++r) {
      gbs.push_back(measure_read_bandwidth(m, m.pool()));
      tps.push_back(bench_tg(m, opt.n_gen, opt.depth, opt.seed + static_cast<std::uint64_t>(r)));
      pct.push_back(100.0 * tps.back() * bytes / (gbs.back() * 1e9));
    }
    const std::string at = opt.depth > 0 ? " @ d" + std::to_string(opt.depth) : "";
    out.push_back({"tg" + std::to_string(opt.n_gen) + at, summarize(tps), summarize(gbs), summarize(pct)});
  }
  return out;
}

}  // namespace dsv2::tools
