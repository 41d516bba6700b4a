// DeepSeekMoE's router (reference doc §5): softmax over all routed experts in float32, then
// greedy or group-limited top-k, then either normalisation or the routed scaling factor.
#pragma once
#include <cstdint>
#include <vector>

#include "model/config.h"
#include "tensor/tensor.h"

namespace dsv2 {

class ThreadPool;

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

// Chooses experts for rows of xn[T, H] with router weight [E, H].
void route(const Tensor& router, const Config& c, const float* xn, std::int64_t T, Routing& out,
           RouterScratch& s, ThreadPool& pool);

// The routing rule on one row of probabilities (exposed for tests).
void select_experts(const Config& c, float* probs, std::int32_t* experts, float* weights,
                    RouterScratch& s);

}  // namespace dsv2
