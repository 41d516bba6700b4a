#include "tools/bench.h"

#include <chrono>
#include <cmath>
#include <memory>
#include <random>

#include "kernels/thread_pool.h"
#include "model/deepseek_v2.h"

namespace dsv2::tools {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

BenchResult summarize(std::string test, const std::vector<double>& tps) {
  double mean = 0, var = 0;
  for (double v : tps) mean += v;
  mean /= static_cast<double>(tps.size());
  for (double v : tps) var += (v - mean) * (v - mean);
  const double sd = tps.size() > 1 ? std::sqrt(var / static_cast<double>(tps.size() - 1)) : 0.0;
  return {std::move(test), mean, sd};
}

std::vector<std::int32_t> random_tokens(std::int64_t n, std::int64_t vocab, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::int32_t> t(static_cast<std::size_t>(n));
  for (auto& v : t) v = static_cast<std::int32_t>(rng() % static_cast<std::uint64_t>(vocab));
  return t;
}

// Forwards tokens[0, n) at positions pos0.. into cache in one batch; logits for the last row only.
void prefill(DeepseekV2& m, KvCache& cache, const std::int32_t* tokens, std::int64_t n,
             std::int64_t pos0, std::vector<BatchRow>& rows, std::vector<float>& logits) {
  rows.resize(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) rows[static_cast<std::size_t>(i)] = {tokens[i], pos0 + i, &cache, i == n - 1};
  m.forward(rows, logits.data());
}

double bench_pp(DeepseekV2& m, std::int64_t n, std::uint64_t seed) {
  KvCache cache = m.new_cache(n);
  const auto tokens = random_tokens(n, m.config().vocab_size, seed);
  std::vector<BatchRow> rows;
  std::vector<float> logits(static_cast<std::size_t>(m.config().vocab_size));
  const auto t0 = Clock::now();
  prefill(m, cache, tokens.data(), n, 0, rows, logits);
  return static_cast<double>(n) / seconds_since(t0);
}

// n decode steps after a short prompt; each step feeds the previous step's argmax-free token
// (a fixed random stream: generation speed does not depend on which token comes next).
double bench_tg(DeepseekV2& m, std::int64_t n, std::uint64_t seed) {
  constexpr std::int64_t kPrompt = 8;
  KvCache cache = m.new_cache(kPrompt + n);
  const auto tokens = random_tokens(kPrompt + n, m.config().vocab_size, seed);
  std::vector<BatchRow> rows;
  std::vector<float> logits(static_cast<std::size_t>(m.config().vocab_size));
  prefill(m, cache, tokens.data(), kPrompt, 0, rows, logits);
  const auto t0 = Clock::now();
  for (std::int64_t i = 0; i < n; ++i) prefill(m, cache, tokens.data() + kPrompt + i, 1, kPrompt + i, rows, logits);
  return static_cast<double>(n) / seconds_since(t0);
}

}  // namespace

double measure_read_bandwidth(ThreadPool& pool, std::size_t bytes) {
  const std::size_t n = bytes / sizeof(std::uint64_t);
  std::unique_ptr<std::uint64_t[]> buf(new std::uint64_t[n]);
  pool.parallel_for(static_cast<std::int64_t>(n), [&](std::int64_t b, std::int64_t e, int) {
    std::uint64_t x = 0x9E3779B97F4A7C15ull * static_cast<std::uint64_t>(b + 1);
    for (std::int64_t i = b; i < e; ++i) {  // xorshift: distinct pages, nothing to merge
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      buf[static_cast<std::size_t>(i)] = x;
    }
  });
  std::vector<std::uint64_t> sums(static_cast<std::size_t>(pool.size()) * 8);
  double best = 0;
  for (int pass = 0; pass < 5; ++pass) {
    const auto t0 = Clock::now();
    pool.parallel_for(static_cast<std::int64_t>(n / 4), [&](std::int64_t b, std::int64_t e, int t) {
      std::uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;  // independent chains: bandwidth, not latency
      for (std::int64_t i = b * 4; i < e * 4; i += 4) {
        s0 += buf[static_cast<std::size_t>(i)], s1 += buf[static_cast<std::size_t>(i + 1)];
        s2 += buf[static_cast<std::size_t>(i + 2)], s3 += buf[static_cast<std::size_t>(i + 3)];
      }
      sums[static_cast<std::size_t>(t) * 8] += s0 + s1 + s2 + s3;  // keeps the loop alive
    });
    best = std::max(best, static_cast<double>(n * 8) / seconds_since(t0) / 1e9);
  }
  return best;
}

double weight_bytes_per_token(const DeepseekV2& model) {
  const Config& c = model.config();
  const Checkpoint& ck = model.checkpoint();
  auto bytes = [&](const std::string& name) { return static_cast<double>(ck.get(name).nbytes()); };
  auto mlp = [&](const std::string& p) {
    return bytes(p + "gate_proj.weight") + bytes(p + "up_proj.weight") + bytes(p + "down_proj.weight");
  };
  double total = bytes(ck.has("lm_head.weight") ? "lm_head.weight" : "model.embed_tokens.weight");
  const double dn = static_cast<double>(c.qk_nope_head_dim), dv = static_cast<double>(c.v_head_dim);
  for (std::int64_t i = 0; i < c.num_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    const std::string a = p + "self_attn.";
    total += c.q_lora_rank > 0 ? bytes(a + "q_a_proj.weight") + bytes(a + "q_b_proj.weight") : bytes(a + "q_proj.weight");
    total += bytes(a + "kv_a_proj_with_mqa.weight") + bytes(a + "o_proj.weight");
    // Decode reads the W_UV rows of kv_b_proj in place and a float32 copy of W_UK transposed.
    total += bytes(a + "kv_b_proj.weight") * dv / (dn + dv);
    total += static_cast<double>(c.num_heads * c.kv_lora_rank * c.qk_nope_head_dim) * sizeof(float);
    if (!c.is_moe_layer(i)) {
      total += mlp(p + "mlp.");
      continue;
    }
    total += bytes(p + "mlp.gate.weight") + static_cast<double>(c.num_experts_per_tok) * mlp(p + "mlp.experts.0.");
    if (c.n_shared_experts > 0) total += mlp(p + "mlp.shared_experts.");
  }
  return total;
}

std::vector<BenchResult> run_bench(DeepseekV2& m, const BenchOptions& opt) {
  std::vector<BenchResult> out;
  if (opt.n_prompt > 0) {
    bench_pp(m, std::min<std::int64_t>(opt.n_prompt, 16), opt.seed);  // warm-up: page in, grow scratch
    std::vector<double> tps;
    for (int r = 0; r < opt.reps; ++r) tps.push_back(bench_pp(m, opt.n_prompt, opt.seed + static_cast<std::uint64_t>(r)));
    out.push_back(summarize("pp" + std::to_string(opt.n_prompt), tps));
  }
  if (opt.n_gen > 0) {
    bench_tg(m, 2, opt.seed);
    std::vector<double> tps;
    for (int r = 0; r < opt.reps; ++r) tps.push_back(bench_tg(m, opt.n_gen, opt.seed + static_cast<std::uint64_t>(r)));
    out.push_back(summarize("tg" + std::to_string(opt.n_gen), tps));
  }
  return out;
}

}  // namespace dsv2::tools
