#include "kernels/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace dsv2 {
namespace {

// Every index in [0, n) is visited exactly once, by a chunk that matches its thread index.
void check_cover(ThreadPool& pool, std::int64_t n) {
  std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
  std::atomic<int> calls{0};
  pool.parallel_for(n, [&](std::int64_t b, std::int64_t e, int t) {
    ASSERT_LE(0, t);
    ASSERT_LT(t, pool.size());
    ASSERT_LT(b, e);
    ++calls;
    for (std::int64_t i = b; i < e; ++i) ++hits[static_cast<std::size_t>(i)];
  });
  for (std::int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[static_cast<std::size_t>(i)], 1) << "n=" << n << " i=" << i;
  EXPECT_LE(calls, pool.size());
}

TEST(ThreadPool, CoversUnevenSplitsAndSmallRanges) {
  for (int threads : {1, 2, 3, 7}) {
    ThreadPool pool(threads);
    for (std::int64_t n : {1, 2, 3, 5, 6, 7, 8, 13, 100, 1001}) check_cover(pool, n);
  }
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
