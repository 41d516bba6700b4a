// The golden fixtures: logits and greedy continuations computed by DeepSeek's original model
// code. Tolerance 1e-3 at every position, whole-sequence, chunked and token-by-token.
#include <gtest/gtest.h>

#include "generate/evaluate.h"
#include "model/deepseek_v2.h"
#include "support/golden.h"

namespace dsv2 {
namespace {

constexpr float kTolerance = 1e-3f;

class GoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTest, LogitsMatchAtEveryPositionForEveryChunking) {
  test::Golden g = test::load_golden(GetParam());
  DeepseekV2 model(Checkpoint::open_hf_dir(g.model_dir), 2);
  ASSERT_EQ(model.config().vocab_size, g.vocab);
  ASSERT_EQ(static_cast<std::int64_t>(g.input_ids.size()), g.positions);
  for (std::int64_t chunk : {0, 7, 1}) {
    std::vector<float> logits = sequence_logits(model, g.input_ids, chunk);
    ASSERT_EQ(logits.size(), g.logits.size());
    for (std::int64_t p = 0; p < g.positions; ++p) {
      float diff = test::max_row_diff(logits.data() + p * g.vocab, g.logits.data() + p * g.vocab, g.vocab);
      ASSERT_LE(diff, kTolerance) << GetParam() << " chunk " << chunk << " position " << p;
    }
  }
}

TEST_P(GoldenTest, GreedyContinuationIsExact) {
  test::Golden g = test::load_golden(GetParam());
  DeepseekV2 model(Checkpoint::open_hf_dir(g.model_dir), 2);
  auto out = greedy_continuation(model, g.greedy_prompt, static_cast<std::int64_t>(g.greedy_continuation.size()));
  EXPECT_EQ(out, g.greedy_continuation);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, GoldenTest,
                         ::testing::Values("lite-tiny", "v2-tiny", "text-bf16", "tiny-coder"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return test::param_name(p.param); });

}  // namespace
}  // namespace dsv2
