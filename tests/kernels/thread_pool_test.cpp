#include "kernels/thread_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace dsv2 {
namespace {

// Every index in [0, n) is visited exactly once, on valid thread indices, by chunks of at least
// `grain` items (but the one that ends the range) and at most a 1 / (2 threads) share of it.
void check_cover(ThreadPool& pool, std::int64_t n, std::int64_t grain = 1) {
  std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
  const std::int64_t share = (n + 2 * pool.size() - 1) / (2 * pool.size());
  pool.parallel_for(n, [&](std::int64_t b, std::int64_t e, int t) {
    ASSERT_LE(0, t);
    ASSERT_LT(t, pool.size());
    ASSERT_LT(b, e);
    if (pool.size() > 1) {  // one thread: the whole range inline
      if (e < n) {
        ASSERT_GE(e - b, grain);
      }
      ASSERT_LE(e - b, std::max(grain, share));
    }
    for (std::int64_t i = b; i < e; ++i) ++hits[static_cast<std::size_t>(i)];
  }, grain);
  for (std::int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[static_cast<std::size_t>(i)], 1) << "n=" << n << " i=" << i;
}

TEST(ThreadPool, CoversUnevenSplitsAndSmallRanges) {
  for (int threads : {1, 2, 3, 7}) {
    ThreadPool pool(threads);
    for (std::int64_t n : {1, 2, 3, 5, 6, 7, 8, 13, 100, 1001}) check_cover(pool, n);
    for (std::int64_t grain : {1, 3, 64}) check_cover(pool, 1001, grain);
  }
}

// Uneven items: one thread stuck on a slow item does not hold back the rest, which the other
// threads take (with one chunk per thread, thread 0 would own items 0..n/2).
TEST(ThreadPool, FastThreadsTakeMoreChunks) {
  ThreadPool pool(2);
  std::atomic<int> by_other{0};
  pool.parallel_for(64, [&](std::int64_t b, std::int64_t e, int t) {
    if (b == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (t != 0 || b != 0) by_other += static_cast<int>(e - b);
  }, 1);
  EXPECT_GE(by_other, 32);
}

TEST(ThreadPool, EmptyRangeDoesNothing) {
  ThreadPool pool(3);
  bool called = false;
  pool.parallel_for(0, [&](std::int64_t, std::int64_t, int) { called = true; });
  EXPECT_FALSE(called);
}

TEST(ThreadPool, ManyCallsInARow) {
  ThreadPool pool(4);
  std::atomic<std::int64_t> total{0};
  for (int i = 0; i < 5000; ++i) {
    pool.parallel_for(i % 9 + 1, [&](std::int64_t b, std::int64_t e, int) { total += e - b; });
  }
  std::int64_t want = 0;
  for (int i = 0; i < 5000; ++i) want += i % 9 + 1;
  EXPECT_EQ(total, want);
}

TEST(ThreadPool, SizeDefaultsToHardware) {
  ThreadPool pool(0);
  EXPECT_EQ(pool.size(), ThreadPool::hardware_threads());
}

}  // namespace
}  // namespace dsv2
