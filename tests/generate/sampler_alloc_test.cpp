// Checks the "no heap allocation per token" promise by counting global operator new calls.
// The replacement is global to test_generate but only counts while a test says so. ASan brings
// its own operator new family and would see our free() as a mismatch, so it is off there.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "generate/rng.h"
#include "generate/sampler.h"

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

TEST(SamplerAllocation, SteadyStateDoesNotAllocate) {
  if (!DSV2_COUNT_ALLOCATIONS) GTEST_SKIP() << "operator new is ASan's in this build";
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
    allocations = 0;
    counting = true;
    for (int i = 0; i < 20; ++i) {
      logits[i] += 1;  // not the same row every time
      s.sample(logits, history);
    }
    counting = false;
    EXPECT_EQ(allocations, 0) << "top_k=" << top_k;
  }
}

}  // namespace
}  // namespace dsv2
