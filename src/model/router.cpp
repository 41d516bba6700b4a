#include "model/router.h"

#include <algorithm>
#include <numeric>

#include "kernels/ops.h"
#include "model/batch.h"

namespace dsv2 {

namespace {

// Indices of the k largest values (ties: lower index first), in descending order of value.
void top_k_indices(const float* v, std::int64_t n, std::int64_t k, std::vector<std::int32_t>& order) {
  order.resize(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [v](std::int32_t a, std::int32_t b) {
    return v[a] > v[b] || (v[a] == v[b] && a < b);
  });
  order.resize(static_cast<std::size_t>(k));
}

// group_limited_greedy: keep the topk_group groups with the highest max-probability, zero the rest.
void mask_groups(const Config& c, float* probs, RouterScratch& s) {
  const std::int64_t per = c.n_routed_experts / c.n_group;
  float* gs = grow(s.group_score, static_cast<std::size_t>(c.n_group));
  for (std::int64_t g = 0; g < c.n_group; ++g) gs[g] = *std::max_element(probs + g * per, probs + (g + 1) * per);
  top_k_indices(gs, c.n_group, c.topk_group, s.order);
  std::vector<char>& keep = s.keep_group;
  keep.assign(static_cast<std::size_t>(c.n_group), 0);
  for (std::int32_t g : s.order) keep[static_cast<std::size_t>(g)] = 1;
  for (std::int64_t g = 0; g < c.n_group; ++g)
    if (!keep[static_cast<std::size_t>(g)]) std::fill(probs + g * per, probs + (g + 1) * per, 0.0f);
}

}  // namespace

void select_experts(const Config& c, float* probs, std::int32_t* experts, float* weights,
                    RouterScratch& s) {
  const std::int64_t E = c.n_routed_experts, k = c.num_experts_per_tok;
  softmax(probs, E);
  if (c.topk_method == TopkMethod::GroupLimitedGreedy) mask_groups(c, probs, s);
  top_k_indices(probs, E, k, s.order);
  float sum = 0.0f;
  for (std::int64_t j = 0; j < k; ++j) {
    experts[j] = s.order[static_cast<std::size_t>(j)];
    weights[j] = probs[experts[j]];
    sum += weights[j];
  }
  const bool normalize = k > 1 && c.norm_topk_prob;
  for (std::int64_t j = 0; j < k; ++j)
    weights[j] = normalize ? weights[j] / (sum + 1e-20f)
                           : weights[j] * static_cast<float>(c.routed_scaling_factor);
}

void route(const Config& c, float* probs, std::int64_t T, Routing& out, RouterScratch& s) {
  const std::int64_t E = c.n_routed_experts, k = c.num_experts_per_tok;
  out.top_k = k;
  out.experts.resize(static_cast<std::size_t>(T * k));
  out.weights.resize(static_cast<std::size_t>(T * k));
  for (std::int64_t t = 0; t < T; ++t)
    select_experts(c, probs + t * E, out.experts.data() + t * k, out.weights.data() + t * k, s);
}

}  // namespace dsv2
