// Feed-forward blocks: the dense SwiGLU MLP, and DeepSeekMoE (routed experts run expert-major:
// gather the rows routed to each expert, one matmul per used expert, scatter-add weighted
// results; plus the always-on shared experts).
#pragma once
#include <cstdint>
#include <vector>

#include "model/config.h"
#include "model/router.h"
#include "model/weights.h"

namespace dsv2 {

class ThreadPool;

struct MlpScratch {
  std::vector<float> gate, up;
};

struct MoeScratch {
  MlpScratch mlp;
  RouterScratch router;
  Routing routing;
  std::vector<float> x_e, y_e, shared;
  std::vector<std::vector<std::int32_t>> rows_of;     // per expert: batch rows routed to it
  std::vector<std::vector<float>> weight_of;          // per expert: their routing weights
};

// out[T, H] = down(silu(gate(x)) * up(x)).
void mlp_forward(const MlpWeights& w, const float* x, std::int64_t T, float* out, MlpScratch& s,
                 ThreadPool& pool);

// out[T, H] = Σ_j w_j Expert_j(x) + Shared(x).
void moe_forward(const MoeWeights& w, const Config& c, const float* x, std::int64_t T, float* out,
                 MoeScratch& s, ThreadPool& pool);

}  // namespace dsv2
