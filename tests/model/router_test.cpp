#include "model/router.h"

#include <gtest/gtest.h>

#include <cmath>

namespace dsv2 {
namespace {

// Logits whose softmax is proportional to `weights`.
std::vector<float> logits_for(const std::vector<float>& weights) {
  std::vector<float> l;
  for (float w : weights) l.push_back(std::log(w));
  return l;
}

Config moe_config(std::int64_t E, std::int64_t k) {
  Config c;
  c.n_routed_experts = E;
  c.num_experts_per_tok = k;
  return c;
}

TEST(Router, GreedyTopKScaledByRoutedScalingFactor) {
  Config c = moe_config(4, 2);
  c.routed_scaling_factor = 16.0;
  auto p = logits_for({0.1f, 0.4f, 0.2f, 0.3f});
  std::int32_t ex[2];
  float w[2];
  RouterScratch s;
  select_experts(c, p.data(), ex, w, s);
  EXPECT_EQ(ex[0], 1);
  EXPECT_EQ(ex[1], 3);
  EXPECT_NEAR(w[0], 0.4f * 16, 1e-5);
  EXPECT_NEAR(w[1], 0.3f * 16, 1e-5);
}

TEST(Router, NormTopkProbNormalisesAndIgnoresScaling) {
  Config c = moe_config(4, 2);
  c.norm_topk_prob = true;
  c.routed_scaling_factor = 16.0;
  auto p = logits_for({0.1f, 0.4f, 0.2f, 0.3f});
  std::int32_t ex[2];
  float w[2];
  RouterScratch s;
  select_experts(c, p.data(), ex, w, s);
  EXPECT_NEAR(w[0], 0.4f / 0.7f, 1e-5);
  EXPECT_NEAR(w[1], 0.3f / 0.7f, 1e-5);
}

TEST(Router, GroupLimitedKeepsOnlyTheBestGroups) {
  // 3 groups of 2. Group maxima: g0 0.30, g1 0.25, g2 0.20 — but g2 holds the 2nd and 3rd best
  // experts overall only if groups are ignored. With topk_group 1 only g0 may be chosen.
  Config c = moe_config(6, 2);
  c.topk_method = TopkMethod::GroupLimitedGreedy;
  c.n_group = 3;
  c.topk_group = 1;
  auto p = logits_for({0.30f, 0.01f, 0.25f, 0.04f, 0.20f, 0.20f});
  std::int32_t ex[2];
  float w[2];
  RouterScratch s;
  select_experts(c, p.data(), ex, w, s);
  EXPECT_EQ(ex[0], 0);
  EXPECT_EQ(ex[1], 1);
  EXPECT_NEAR(w[1], 0.01f, 1e-5);
  c.topk_group = 2;  // groups 0 and 1
  p = logits_for({0.30f, 0.01f, 0.25f, 0.04f, 0.20f, 0.20f});
  select_experts(c, p.data(), ex, w, s);
  EXPECT_EQ(ex[0], 0);
  EXPECT_EQ(ex[1], 2);
}

TEST(Router, TopOneIsNeverNormalised) {
  Config c = moe_config(3, 1);
  c.norm_topk_prob = true;
  c.routed_scaling_factor = 2.0;
  auto p = logits_for({0.2f, 0.5f, 0.3f});
  std::int32_t ex[1];
  float w[1];
  RouterScratch s;
  select_experts(c, p.data(), ex, w, s);
  EXPECT_EQ(ex[0], 1);
  EXPECT_NEAR(w[0], 1.0f, 1e-5);  // 0.5 * routed_scaling_factor, as the reference does for k = 1
}

}  // namespace
}  // namespace dsv2
