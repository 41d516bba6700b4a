// `dsv2 bench`: llama-bench-style throughput of a model — prompt processing (one forward over
// p tokens into a fresh cache) and generation (n single-token decode steps) — plus the machine's
// measured memory read bandwidth and generation speed as a share of the bandwidth roofline.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace dsv2 {
class DeepseekV2;
class ThreadPool;
}

namespace dsv2::tools {

struct BenchOptions {
  std::int64_t n_prompt = 512;  // 0: skip pp
  std::int64_t n_gen = 128;     // 0: skip tg
  std::int64_t depth = 0;       // tokens already in the cache before tg (long-context decode)
  std::int64_t ubatch = 0;      // pp fed in forwards of this many tokens, as the engine feeds prompts (0: one)
  int reps = 3;
  std::uint64_t seed = 1;
};

struct MeanSd {
  double mean = 0, sd = 0;
};

struct BenchResult {
  std::string test;  // "pp512", "tg128"
  MeanSd tps;
  // Generation only: the read bandwidth measured right before each repetition (GB/s) and that
  // repetition's speed as a share of its own roofline (bandwidth / weight bytes per token). The
  // memory bandwidth of a shared machine drifts by 10-30% within a minute, so one probe for the
  // whole run would misstate the share.
  MeanSd gbs, roofline_pct;
};

// GB/s (1e9 bytes) of a multi-threaded sum over up to `bytes` of the model's own weights (the
// routed experts' matrices, layer by layer, each read whole with the widest SIMD loads): the
// memory decoding reads, with the page size it has, real (so never page-merged) content, and no
// extra allocation to inflate peak RSS. Best of 16 passes, 2 with each of eight prefetch schemes.
double measure_read_bandwidth(const DeepseekV2& model, ThreadPool& pool, std::size_t bytes = std::size_t{1} << 30);

// Reads every weight matrix a decode step may use once. The first read of memory the load wrote
// can run far slower than later ones (6-7 GB/s against 45-60 for Lite Q4_0 experts on a Zen 5
// VM, for seconds after the load; not in the guest's page tables: no fault shows in a profile),
// so generation repetitions start after this, and measure the steady state a server reaches.
void touch_weights(const DeepseekV2& model, ThreadPool& pool);

// Bytes of weights one decoded token reads: attention (incl. the absorbed W_UK / W_UV), dense
// MLPs, shared experts, top-k routed experts and the router, lm_head, as the model holds them.
double weight_bytes_per_token(const DeepseekV2& model);

std::vector<BenchResult> run_bench(DeepseekV2& model, const BenchOptions& opt);

}  // namespace dsv2::tools
