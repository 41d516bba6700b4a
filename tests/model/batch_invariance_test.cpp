// The engine's "batched greedy == sequential greedy" guarantee rests on a row's logits not
// depending on which other rows share its batch, nor on the thread count. Checked bit for bit
// on a small random model for float32 and quantized weights.
#include <gtest/gtest.h>

#include <vector>

#include "model/deepseek_v2.h"
#include "tools/quantized_synth.h"
#include "tools/synth.h"

namespace dsv2 {
namespace {

Config small_config() {
  Config c = tools::synth_preset("tiny");
  c.vocab_size = 512;
  return c;
}

// Prefills `prompt` into cache, then returns the logits of one step on `token`, batched with a
// row of another sequence (when `other` is set).
std::vector<float> step_logits(DeepseekV2& m, const std::vector<std::int32_t>& prompt, std::int32_t token,
                               bool other) {
  const auto V = static_cast<std::size_t>(m.config().vocab_size);
  KvCache a = m.new_cache(64), b = m.new_cache(64);
  std::vector<float> logits(2 * V);
  std::vector<BatchRow> rows;
  for (std::size_t i = 0; i < prompt.size(); ++i) rows.push_back({prompt[i], static_cast<std::int64_t>(i), &a, false});
  m.forward(rows, logits.data());
  const auto n = static_cast<std::int64_t>(prompt.size());
  rows = {{token, n, &a, true}};
  if (other) {  // a second sequence with a longer history, in the same step
    std::vector<BatchRow> pre;
    for (std::int64_t i = 0; i < n + 3; ++i) pre.push_back({static_cast<std::int32_t>(7 * i + 1), i, &b, false});
    m.forward(pre, logits.data());
    rows.push_back({99, n + 3, &b, true});
  }
  m.forward(rows, logits.data());
  return {logits.begin(), logits.begin() + static_cast<std::ptrdiff_t>(V)};
}

class BatchInvariance : public ::testing::TestWithParam<DType> {};

TEST_P(BatchInvariance, RowLogitsDoNotDependOnBatchOrThreads) {
  const Config c = small_config();
  const std::vector<std::int32_t> prompt{5, 17, 300, 42, 8};
  DeepseekV2 two(tools::synth_quantized(c, GetParam(), 3), 2);
  DeepseekV2 one(tools::synth_quantized(c, GetParam(), 3), 1);
  const auto alone = step_logits(two, prompt, 11, false);
  EXPECT_EQ(alone, step_logits(two, prompt, 11, true)) << "batched with another sequence";
  EXPECT_EQ(alone, step_logits(one, prompt, 11, true)) << "one thread";
}

INSTANTIATE_TEST_SUITE_P(Types, BatchInvariance, ::testing::Values(DType::F32, DType::Q8_0, DType::Q4_0),
                         [](const auto& p) { return std::string(dtype_name(p.param)); });

// routed_experts_read counts, per step and MoE layer, the distinct experts the rows chose: one
// row reads exactly top-k experts per layer; rows repeating the same token and position in two
// sequences choose the same ones.
TEST(RoutedExperts, CountsDistinctExpertsPerLayerAndStep) {
  const Config c = small_config();
  DeepseekV2 m(tools::synth_quantized(c, DType::F32, 3), 1);
  std::int64_t moe_layers = 0;
  for (std::int64_t i = 0; i < c.num_layers; ++i) moe_layers += c.is_moe_layer(i) ? 1 : 0;
  ASSERT_GT(moe_layers, 0);
  KvCache a = m.new_cache(8), b = m.new_cache(8);
  std::vector<float> logits(2 * static_cast<std::size_t>(c.vocab_size));
  std::vector<BatchRow> one{{5, 0, &a, true}};
  m.forward(one, logits.data());
  EXPECT_EQ(m.routed_experts_read(), moe_layers * c.num_experts_per_tok);
  std::vector<BatchRow> twins{{7, 1, &a, true}, {7, 0, &b, true}};
  const std::int64_t before = m.routed_experts_read();
  m.forward(twins, logits.data());
  const std::int64_t step = m.routed_experts_read() - before;
  EXPECT_GE(step, moe_layers * c.num_experts_per_tok);
  EXPECT_LE(step, 2 * moe_layers * c.num_experts_per_tok);
}

}  // namespace
}  // namespace dsv2
