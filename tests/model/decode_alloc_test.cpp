// Checks "no heap allocation per token in the decode loop" by counting global operator new
// calls during steady-state single-token steps (the model and cache are sized by then). ASan
// brings its own operator new family, so the count is off there.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "model/deepseek_v2.h"
#include "tools/quantized_synth.h"
#include "tools/synth.h"

#if defined(__SANITIZE_ADDRESS__)
#define DSV2_COUNT_ALLOCATIONS 0
#else
#define DSV2_COUNT_ALLOCATIONS 1
#endif

namespace {
std::atomic<bool> counting{false};
std::atomic<long> allocations{0};
}  // namespace

#if DSV2_COUNT_ALLOCATIONS
void* operator new(std::size_t size) {
  if (counting) ++allocations;
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { ::operator delete(p); }
#endif

namespace dsv2 {
namespace {

TEST(DecodeAllocation, SteadyStateStepsDoNotAllocate) {
  if (!DSV2_COUNT_ALLOCATIONS) GTEST_SKIP() << "operator new is ASan's in this build";
  Config c = tools::synth_preset("tiny");
  c.vocab_size = 512;
  for (DType t : {DType::F32, DType::Q4_0}) {
    DeepseekV2 m(tools::synth_quantized(c, t, 1), 2);
    KvCache cache = m.new_cache(64);
    std::vector<float> logits(static_cast<std::size_t>(c.vocab_size));
    BatchRow row{1, 0, &cache, true};
    for (int i = 0; i < 4; ++i, ++row.pos) m.forward({&row, 1}, logits.data());  // sizes the scratch
    allocations = 0;
    counting = true;
    for (int i = 0; i < 16; ++i, ++row.pos) {
      row.token = 3 + i;
      m.forward({&row, 1}, logits.data());
    }
    counting = false;
    EXPECT_EQ(allocations, 0) << dtype_name(t);
  }
}

}  // namespace
}  // namespace dsv2
