// Checks "no heap allocation per token in the decode loop" by counting global operator new
// calls during steady-state single-token steps (the model and cache are sized by then);
// support/allocation_counter.h is the one file of test_model that replaces them.
#include <gtest/gtest.h>

#include "model/deepseek_v2.h"
#include "support/allocation_counter.h"
#include "tools/quantized_synth.h"
#include "tools/synth.h"

namespace dsv2 {
namespace {

TEST(DecodeAllocation, SteadyStateStepsDoNotAllocate) {
  if (!test::kCountsAllocations) GTEST_SKIP() << "operator new is ASan's in this build";
  Config c = tools::synth_preset("tiny");
  c.vocab_size = 512;
  for (DType t : {DType::F32, DType::Q4_0}) {
    DeepseekV2 m(tools::synth_quantized(c, t, 1), 2);
    KvCache cache = m.new_cache(64);
    std::vector<float> logits(static_cast<std::size_t>(c.vocab_size));
    BatchRow row{1, 0, &cache, true};
    for (int i = 0; i < 4; ++i, ++row.pos) m.forward({&row, 1}, logits.data());  // sizes the scratch
    long allocations = 0;
    {
      const test::AllocationCount count;
      for (int i = 0; i < 16; ++i, ++row.pos) {
        row.token = 3 + i;
        m.forward({&row, 1}, logits.data());
      }
      allocations = count.count();
    }
    EXPECT_EQ(allocations, 0) << dtype_name(t);
  }
}

}  // namespace
}  // namespace dsv2
