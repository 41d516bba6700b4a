// Feed-forward blocks: the dense SwiGLU MLP, and DeepSeekMoE (routed experts run expert-major:
// gather the rows routed to each expert, one matmul per used expert, scatter-add weighted
// results; plus the always-on shared experts).
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "model/config.h"
#include "model/router.h"
#include "model/weights.h"

namespace dsv2 {

class ThreadPool;

struct MlpScratch {
  std::vector<float> gate, up;
};

// One expert's share of a MoE step: which batch rows it sees and where its buffers start.
struct ExpertTask {
  const MlpWeights* w = nullptr;
  std::int64_t expert = -1;                  // -1: the shared experts (every row, weight 1)
  std::int64_t n = 0, units_begin = 0;       // rows; first routed gate+up work unit
  std::size_t xq = 0, hq = 0, h = 0, y = 0;  // offsets into the scratch buffers
  bool gathers = false;                      // quantizes its own gathered rows (else the batch's)
};

struct MoeScratch {
  RouterScratch router;
  Routing routing;
  std::vector<std::vector<std::int32_t>> rows_of;     // per expert: batch rows routed to it
  std::vector<std::vector<float>> weight_of;          // per expert: their routing weights
  std::vector<std::int32_t> used;                     // the experts with rows, ascending
  std::int64_t bucket_rows = 0;                       // rows every bucket has room for
  std::vector<std::int32_t> all_rows;                 // 0..T-1, the shared experts' rows
  std::vector<ExpertTask> tasks;                      // the shared experts first, then routed
  ExpertTask next;                                    // where the next task's buffers start
  DType batch_dtype = DType::F32;                     // routed gates' type: the batch rows' format
  std::vector<std::int32_t> gathering;                // tasks that gather their rows
  std::unique_ptr<std::atomic<std::int64_t>[]> units_left;  // per task: gate+up units not yet done
  std::size_t units_left_cap = 0;
  std::vector<std::uint8_t> xq, hq;                   // quantized inputs of gate+up, of down
  std::vector<float> x_e, h, y;                       // gathered inputs, hidden, outputs
};

// out[T, H] = down(silu(gate(x)) * up(x)). `next` (here and in moe_forward): what the caller's
// next step reads (ThreadPool::parallel_for).
void mlp_forward(const MlpWeights& w, const float* x, std::int64_t T, float* out, MlpScratch& s,
                 ThreadPool& pool, std::span<const NextRead> next = {});

// out[T, H] = Σ_j w_j Expert_j(x) + Shared(x). Returns how many distinct routed experts the T rows
// used (each one's matrices are read once per step: what decoding several sequences costs).
std::int64_t moe_forward(const MoeWeights& w, const Config& c, const float* x, std::int64_t T, float* out,
                 MoeScratch& s, ThreadPool& pool, std::span<const NextRead> next = {});

// What mlp_forward's and moe_forward's first steps read (gate and up; the router and the shared
// experts' gate and up).
StepReads mlp_first_reads(const MlpWeights& w);
StepReads moe_first_reads(const MoeWeights& w);

}  // namespace dsv2
