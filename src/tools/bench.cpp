#include "tools/bench.h"

#include <algorithm>
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
double bench_tg(DeepseekV2& m, std::int64_t n, std::int64_t depth, std::uint64_t seed) {
  const std::int64_t kPrompt = std::max<std::int64_t>(8, depth);
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

namespace {

// Contiguous 64 KiB pieces of the routed experts' weights, layer by layer, up to `bytes` in all.
std::vector<const std::uint64_t*> expert_chunks(const DeepseekV2& model, std::size_t bytes, std::size_t chunk) {
  std::vector<const std::uint64_t*> out;
  const Config& c = model.config();
  for (std::int64_t i = 0; i < c.num_layers && out.size() * chunk < bytes; ++i) {
    if (!c.is_moe_layer(i)) continue;
    for (std::int64_t e = 0; e < c.n_routed_experts; ++e)
      for (const char* m : {"gate_proj", "up_proj", "down_proj"}) {
        const Tensor& t = model.checkpoint().get("model.layers." + std::to_string(i) + ".mlp.experts." +
                                                 std::to_string(e) + "." + m + ".weight");
        const auto* p = static_cast<const std::uint8_t*>(t.data);
        const std::uintptr_t a = (reinterpret_cast<std::uintptr_t>(p) + 63) / 64 * 64;  // whole cache lines
        for (std::size_t off = a - reinterpret_cast<std::uintptr_t>(p); off + chunk <= t.nbytes(); off += chunk)
          out.push_back(reinterpret_cast<const std::uint64_t*>(p + off));
      }
  }
  return out;
}

}  // namespace

double measure_read_bandwidth(const DeepseekV2& model, ThreadPool& pool, std::size_t bytes) {
  constexpr std::size_t kChunk = 64 << 10, kWords = kChunk / sizeof(std::uint64_t);
  const std::vector<const std::uint64_t*> chunks = expert_chunks(model, bytes, kChunk);
  if (chunks.empty()) return 0;
  std::vector<std::uint64_t> sums(static_cast<std::size_t>(pool.size()) * 8);
  double best = 0;
  for (int pass = 0; pass < 5; ++pass) {
    const auto t0 = Clock::now();
    pool.parallel_for(static_cast<std::int64_t>(chunks.size()), [&](std::int64_t b, std::int64_t e, int t) {
      std::uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;  // independent chains: bandwidth, not latency
      for (std::int64_t c = b; c < e; ++c) {
        const std::uint64_t* w = chunks[static_cast<std::size_t>(c)];
        for (std::size_t i = 0; i < kWords; i += 4) s0 += w[i], s1 += w[i + 1], s2 += w[i + 2], s3 += w[i + 3];
      }
      sums[static_cast<std::size_t>(t) * 8] += s0 + s1 + s2 + s3;  // keeps the loop alive
    });
    best = std::max(best, static_cast<double>(chunks.size() * kChunk) / seconds_since(t0) / 1e9);
  }
  return best;
}

namespace {

double tensor_bytes(const Checkpoint& ck, const std::string& name) {
  return static_cast<double>(ck.get(name).nbytes());
}

// Attention weights one decoded token reads in layer prefix `a` ("model.layers.N.self_attn.").
double attention_bytes(const Checkpoint& ck, const Config& c, const std::string& a) {
  auto bytes = [&](const std::string& name) { return tensor_bytes(ck, a + name); };
  double total = c.q_lora_rank > 0 ? bytes("q_a_proj.weight") + bytes("q_b_proj.weight") : bytes("q_proj.weight");
  total += bytes("kv_a_proj_with_mqa.weight") + bytes("o_proj.weight");
  if (ck.has(a + "k_b_proj.weight")) return total + bytes("k_b_proj.weight") + bytes("v_b_proj.weight");
  // kv_b_proj: its W_UV rows in place, and the transposed copy of W_UK (see uk_t_copy_type).
  const std::int64_t dn = c.qk_nope_head_dim, dv = c.v_head_dim;
  const DType uk = uk_t_copy_type(ck.get(a + "kv_b_proj.weight").dtype, dn);
  return total + bytes("kv_b_proj.weight") * static_cast<double>(dv) / static_cast<double>(dn + dv) +
         static_cast<double>(c.num_heads * c.kv_lora_rank) * static_cast<double>(row_bytes(uk, dn));
}

double mlp_bytes(const Checkpoint& ck, const std::string& p) {
  return tensor_bytes(ck, p + "gate_proj.weight") + tensor_bytes(ck, p + "up_proj.weight") +
         tensor_bytes(ck, p + "down_proj.weight");
}

}  // namespace

double weight_bytes_per_token(const DeepseekV2& model) {
  const Config& c = model.config();
  const Checkpoint& ck = model.checkpoint();
  double total = tensor_bytes(ck, ck.has("lm_head.weight") ? "lm_head.weight" : "model.embed_tokens.weight");
  for (std::int64_t i = 0; i < c.num_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    total += attention_bytes(ck, c, p + "self_attn.");
    if (!c.is_moe_layer(i)) {
      total += mlp_bytes(ck, p + "mlp.");
      continue;
    }
    total += tensor_bytes(ck, p + "mlp.gate.weight") +
             static_cast<double>(c.num_experts_per_tok) * mlp_bytes(ck, p + "mlp.experts.0.");
    if (c.n_shared_experts > 0) total += mlp_bytes(ck, p + "mlp.shared_experts.");
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
    bench_tg(m, 2, 0, opt.seed);
    std::vector<double> tps;
    for (int r = 0; r < opt.reps; ++r)
      tps.push_back(bench_tg(m, opt.n_gen, opt.depth, opt.seed + static_cast<std::uint64_t>(r)));
    const std::string at = opt.depth > 0 ? " @ d" + std::to_string(opt.depth) : "";
    out.push_back(summarize("tg" + std::to_string(opt.n_gen) + at, tps));
  }
  return out;
}

}  // namespace dsv2::tools
