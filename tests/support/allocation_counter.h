// Counts global operator new calls while a test asks it to: the "no heap allocation per token"
// checks. This header defines the replaced operator new / delete, so exactly one source file of
// a test binary may include it. ASan brings its own operator new family (and would take our
// free() for a mismatch), so under ASan nothing is replaced and kCountsAllocations is false.
#pragma once
#include <atomic>
#include <cstdlib>
#include <new>

namespace dsv2::test {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kCountsAllocations = false;
#else
inline constexpr bool kCountsAllocations = true;
#endif

inline std::atomic<bool> counting_allocations{false};
inline std::atomic<long> allocations_counted{0};

// Counts the operator new calls made while it lives (every thread's).
class AllocationCount {
 public:
  AllocationCount() {
    allocations_counted = 0;
    counting_allocations = true;
  }
  ~AllocationCount() { counting_allocations = false; }
  AllocationCount(const AllocationCount&) = delete;
  AllocationCount& operator=(const AllocationCount&) = delete;
  long count() const { return allocations_counted; }
};

}  // namespace dsv2::test

#if !defined(__SANITIZE_ADDRESS__)
void* operator new(std::size_t size) {
  if (dsv2::test::counting_allocations) ++dsv2::test::allocations_counted;
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { ::operator delete(p); }
#endif
