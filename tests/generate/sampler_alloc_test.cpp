// Checks the "no heap allocation per token" promise by counting global operator new calls
// (support/allocation_counter.h: the one file of test_generate that replaces them).
#include <gtest/gtest.h>

#include "generate/rng.h"
#include "generate/sampler.h"
#include "support/allocation_counter.h"

namespace dsv2 {
namespace {

TEST(SamplerAllocation, SteadyStateDoesNotAllocate) {
  if (!test::kCountsAllocations) GTEST_SKIP() << "operator new is ASan's in this build";
  const size_t vocab = 102400;
  std::vector<float> logits(vocab);
  Rng rng(5);
  for (float& x : logits) x = static_cast<float>(rng.next_unit() * 20 - 10);
  std::vector<int32_t> history(300);
  for (auto& id : history) id = static_cast<int32_t>(rng.next_u64() % vocab);

  SamplingParams p{.temperature = 0.8f, .top_k = 0, .top_p = 0.95f, .min_p = 0.01f,
                   .repetition_penalty = 1.1f, .frequency_penalty = 0.2f,
                   .presence_penalty = 0.1f, .penalty_last_n = -1, .seed = 1, .has_seed = true};
  for (int top_k : {0, 40}) {
    p.top_k = top_k;
    Sampler s(p);
    s.sample(logits, history);  // the first call sizes the buffers
    long allocations = 0;
    {
      const test::AllocationCount count;
      for (int i = 0; i < 20; ++i) {
        logits[i] += 1;  // not the same row every time
        s.sample(logits, history);
      }
      allocations = count.count();
    }
    EXPECT_EQ(allocations, 0) << "top_k=" << top_k;
  }
}

}  // namespace
}  // namespace dsv2
