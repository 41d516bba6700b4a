// DeepSeekMoE's router (reference doc §5): softmax over all routed experts in float32, then
// greedy or group-limited top-k, then either normalisation or the routed scaling factor.
#pragma once
#include <cstdint>
#include <vector>

#include "model/config.h"

namespace dsv2 {

struct Routing {
  std::int64_t top_k = 0;
  std::vector<std::int32_t> experts;  // [T, top_k]
  std::vector<float> weights;         // [T, top_k]
};

struct RouterScratch {
  std::vector<float> probs, group_score;
  std::vector<std::int32_t> order;
  std::vector<char> keep_group;
};

// Chooses experts for T rows from their router logits probs[T, E] (x · routerᵀ in float32, which
// the caller computes: the MoE block runs it in one step with the shared experts). probs is
// overwritten with the probabilities.
void route(const Config& c, float* probs, std::int64_t T, Routing& out, RouterScratch& s);

// The routing rule on one row of probabilities (exposed for tests).
void select_experts(const Config& c, float* probs, std::int32_t* experts, float* weights,
                    RouterScratch& s);

}  // namespace dsv2
