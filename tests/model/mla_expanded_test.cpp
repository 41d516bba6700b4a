// The expanded attention form for prompt rows (mla_expanded.h, --prompt-attention expanded):
// the golden fixtures at their tolerance, results independent of prompt chunking and of how
// many expanded rows the cache keeps (kept or recomputed, the same bits), and the cache's
// bookkeeping of those rows.
#include <gtest/gtest.h>

#include <vector>

#include "generate/evaluate.h"
#include "model/deepseek_v2.h"
#include "support/golden.h"
#include "util/error.h"

namespace dsv2 {
namespace {

constexpr float kTolerance = 1e-3f;  // golden_test.cpp's

class ExpandedGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(ExpandedGolden, LogitsMatchTheGoldenAndDoNotDependOnChunking) {
  const test::Golden g = test::load_golden(GetParam());
  DeepseekV2 model(Checkpoint::open_hf_dir(g.model_dir), 2, DType::F32, /*expand_prompts=*/true);
  const std::vector<float> whole = sequence_logits(model, g.input_ids, 0);
  for (std::int64_t p = 0; p < g.positions; ++p)
    ASSERT_LE(test::max_row_diff(whole.data() + p * g.vocab, g.logits.data() + p * g.vocab, g.vocab), kTolerance)
        << GetParam() << " position " << p;
  EXPECT_EQ(whole, sequence_logits(model, g.input_ids, 7)) << "chunks of 7";
  EXPECT_EQ(whole, sequence_logits(model, g.input_ids, 1)) << "token by token";
}

TEST_P(ExpandedGolden, GreedyContinuationIsExact) {
  const test::Golden g = test::load_golden(GetParam());
  DeepseekV2 model(Checkpoint::open_hf_dir(g.model_dir), 2, DType::F32, true);
  const auto n = static_cast<std::int64_t>(g.greedy_continuation.size());
  EXPECT_EQ(greedy_continuation(model, g.greedy_prompt, n), g.greedy_continuation);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ExpandedGolden, ::testing::Values("lite-tiny", "v2-tiny", "text-bf16", "tiny-coder"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return test::param_name(p.param); });

// The process-wide budget for kept expanded rows, set to `positions` positions of `c`'s model
// for the test's lifetime.
struct Budget {
  Budget(const Config& c, std::int64_t positions) {
    ExpandedRows::set_budget(static_cast<std::size_t>(positions * c.num_layers * c.num_heads *
                                                      (c.qk_head_dim() + c.v_head_dim)) * sizeof(float));
  }
  ~Budget() { ExpandedRows::set_budget(ExpandedRows::kBytes); }
};

// Logits of every position, the prompt fed in chunks as prompt rows.
std::vector<float> chunked_logits(DeepseekV2& m, KvCache& cache, const std::vector<std::int32_t>& ids,
                                  std::int64_t chunk) {
  const auto n = static_cast<std::int64_t>(ids.size());
  const std::int64_t V = m.config().vocab_size;
  std::vector<float> logits(static_cast<std::size_t>(n * V));
  std::vector<BatchRow> rows;
  for (std::int64_t start = 0; start < n; start += chunk) {
    rows.clear();
    for (std::int64_t p = start; p < std::min(n, start + chunk); ++p)
      rows.push_back({ids[static_cast<std::size_t>(p)], p, &cache, true, true});
    m.forward(rows, logits.data() + start * V);
  }
  return logits;
}

// Past the kept positions the rows are recomputed for every chunk: the same numbers, so the
// same logits, for every cache type; a second sequence finding the budget spent keeps none.
TEST(ExpandedPrompt, KeptOrRecomputedRowsGiveTheSameBits) {
  const test::Golden g = test::load_golden("lite-tiny");
  const auto n = static_cast<std::int64_t>(g.input_ids.size());
  for (DType t : {DType::F32, DType::BF16, DType::Q8_0}) {
    DeepseekV2 model(Checkpoint::open_hf_dir(g.model_dir), 2, t, true);
    KvCache all = model.new_cache(n);
    const std::vector<float> want = chunked_logits(model, all, g.input_ids, 7);
    EXPECT_EQ(all.expanded().kept(), n) << dtype_name(t);
    all.expanded().release();
    const Budget five(model.config(), 5);
    KvCache a = model.new_cache(n), b = model.new_cache(n);
    EXPECT_EQ(want, chunked_logits(model, a, g.input_ids, 7)) << dtype_name(t) << ": 5 kept";
    EXPECT_EQ(a.expanded().kept(), 5);
    EXPECT_EQ(want, chunked_logits(model, b, g.input_ids, 3)) << dtype_name(t) << ": none kept, chunks of 3";
    EXPECT_EQ(b.expanded().kept(), 0);
  }
}

TEST(ExpandedPrompt, CacheKeepsExpandedRowsUntilTheSequenceGenerates) {
  const test::Golden g = test::load_golden("lite-tiny");
  DeepseekV2 model(Checkpoint::open_hf_dir(g.model_dir), 1, DType::F32, true);
  KvCache cache = model.new_cache(16);
  std::vector<float> logits(static_cast<std::size_t>(model.config().vocab_size));
  std::vector<BatchRow> rows;
  for (std::int64_t p = 0; p < 6; ++p) rows.push_back({g.input_ids[static_cast<std::size_t>(p)], p, &cache, p == 5, true});
  model.forward(rows, logits.data());
  EXPECT_EQ(cache.expanded().kept(), 6);
  for (std::int64_t l = 0; l < model.config().num_layers; ++l) EXPECT_EQ(cache.expanded().filled(l), 6) << "layer " << l;
  cache.truncate(4);  // prefix reuse: rows past the kept prefix are no longer valid
  EXPECT_EQ(cache.expanded().filled(0), 4);
  KvCache moved = std::move(cache);  // the rows and their share of the budget go with it
  EXPECT_EQ(moved.expanded().kept(), 6);
  EXPECT_EQ(cache.expanded().kept(), 0);  // NOLINT(bugprone-use-after-move): moved-from is empty
  BatchRow gen{7, 4, &moved, true};  // a generated token: the prompt is done, the rows go
  model.forward({&gen, 1}, logits.data());
  EXPECT_EQ(moved.expanded().kept(), 0);
  EXPECT_EQ(moved.expanded().filled(0), 0);
}

// The budget is shared: what one sequence keeps, another cannot, until it is given back.
TEST(ExpandedPrompt, SequencesShareTheBudget) {
  const test::Golden g = test::load_golden("lite-tiny");
  DeepseekV2 model(Checkpoint::open_hf_dir(g.model_dir), 1, DType::F32, true);
  const Budget eight(model.config(), 8);
  KvCache a = model.new_cache(16), b = model.new_cache(16);
  EXPECT_EQ(a.expanded().keep(6), 6);
  EXPECT_EQ(b.expanded().keep(6), 2);
  a.expanded().release();
  EXPECT_EQ(b.expanded().keep(16), 8);
  {
    KvCache c = model.new_cache(16);
    EXPECT_EQ(c.expanded().keep(4), 0);
  }
  b = model.new_cache(16);  // assigning over a cache gives its share back
  EXPECT_EQ(a.expanded().keep(3), 3);
}

TEST(ExpandedPrompt, PromptRowsMustFollowGeneratedRows) {
  const test::Golden g = test::load_golden("lite-tiny");
  DeepseekV2 model(Checkpoint::open_hf_dir(g.model_dir), 1, DType::F32, true);
  KvCache a = model.new_cache(8), b = model.new_cache(8);
  std::vector<float> logits(2 * static_cast<std::size_t>(model.config().vocab_size));
  std::vector<BatchRow> rows{{5, 0, &a, true, true}, {6, 0, &b, true, false}};
  EXPECT_THROW(model.forward(rows, logits.data()), Error);
}

}  // namespace
}  // namespace dsv2
