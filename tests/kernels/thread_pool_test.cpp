#include "kernels/thread_pool.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace dsv2 {
namespace {

struct Chunk {
  std::int64_t b, e;
  int thread;
};

// The chunks of one parallel_for, in the order each thread ran them (sorted by thread, stable).
std::vector<Chunk> run_recorded(ThreadPool& pool, std::int64_t n, std::int64_t grain) {
  std::mutex mu;
  std::vector<Chunk> chunks;
  pool.parallel_for(n, [&](std::int64_t b, std::int64_t e, int t) {
    std::lock_guard<std::mutex> lock(mu);
    chunks.push_back({b, e, t});
  }, grain);
  std::stable_sort(chunks.begin(), chunks.end(), [](const Chunk& x, const Chunk& y) { return x.thread < y.thread; });
  return chunks;
}

int share_of(std::int64_t n, int threads, std::int64_t i) {
  for (int s = 0; s < threads; ++s)
    if (i < ThreadPool::share(n, threads, s).second) return s;
  return -1;
}

// Every index in [0, n) is visited exactly once, on valid thread indices, by chunks that each lie
// in one thread's share, hold at most half of it (or `grain` items), and at most one per share
// holding fewer than `grain` (the last one taken from it).
void check_cover(ThreadPool& pool, std::int64_t n, std::int64_t grain = 1) {
  const int T = pool.size();
  std::vector<int> hits(static_cast<std::size_t>(n)), small(static_cast<std::size_t>(T));
  for (const Chunk& c : run_recorded(pool, n, grain)) {
    ASSERT_LE(0, c.thread);
    ASSERT_LT(c.thread, T);
    ASSERT_LT(c.b, c.e);
    for (std::int64_t i = c.b; i < c.e; ++i) ++hits[static_cast<std::size_t>(i)];
    if (T == 1) continue;  // one thread: the whole range inline
    const int s = share_of(n, T, c.b);
    const auto [s0, s1] = ThreadPool::share(n, T, s);
    ASSERT_LE(c.e, s1) << "a chunk crosses a share boundary";
    ASSERT_LE(c.e - c.b, std::max(grain, (s1 - s0 + 1) / 2));
    if (c.e - c.b < grain) ++small[static_cast<std::size_t>(s)];
  }
  for (std::int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[static_cast<std::size_t>(i)], 1) << "n=" << n << " i=" << i;
  for (int s = 0; s < T; ++s) EXPECT_LE(small[static_cast<std::size_t>(s)], 1) << "share " << s;
}

TEST(ThreadPool, SharesSplitTheRangeEvenly) {
  EXPECT_EQ(ThreadPool::share(10, 3, 0), std::make_pair(std::int64_t{0}, std::int64_t{3}));
  EXPECT_EQ(ThreadPool::share(10, 3, 1), std::make_pair(std::int64_t{3}, std::int64_t{6}));
  EXPECT_EQ(ThreadPool::share(10, 3, 2), std::make_pair(std::int64_t{6}, std::int64_t{10}));
  EXPECT_EQ(ThreadPool::share(1, 4, 0).second, 0);  // fewer items than threads: empty shares
}

// A thread reads its own share as one stream: the chunks it runs from its share follow each
// other from the share's first item on (others take theirs from the back), whatever the timing.
TEST(ThreadPool, OwnShareRunsFrontToBack) {
  for (int threads : {2, 3, 4}) {
    ThreadPool pool(threads);
    for (int rep = 0; rep < 50; ++rep) {
      const std::int64_t n = 257 + rep;
      std::vector<std::int64_t> next(static_cast<std::size_t>(threads), -1);
      for (const Chunk& c : run_recorded(pool, n, 1)) {
        const int s = share_of(n, threads, c.b);
        if (s != c.thread) continue;  // taken from another share
        auto& want = next[static_cast<std::size_t>(s)];
        ASSERT_EQ(c.b, want < 0 ? ThreadPool::share(n, threads, s).first : want) << "threads " << threads << " rep " << rep;
        want = c.e;
      }
    }
  }
}

// Ranges longer than a share's positions can count go in units of several items.
TEST(ThreadPool, CoversRangesOfMillions) {
  ThreadPool pool(3);
  const std::int64_t n = (std::int64_t{1} << 22) + 12345;
  std::vector<std::uint8_t> hits(static_cast<std::size_t>(n));
  pool.parallel_for(n, [&](std::int64_t b, std::int64_t e, int) {
    for (std::int64_t i = b; i < e; ++i) ++hits[static_cast<std::size_t>(i)];
  });
  for (std::int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[static_cast<std::size_t>(i)], 1) << i;
}

TEST(ThreadPool, CoversUnevenSplitsAndSmallRanges) {
  for (int threads : {1, 2, 3, 7}) {
    ThreadPool pool(threads);
    for (std::int64_t n : {1, 2, 3, 5, 6, 7, 8, 13, 100, 1001}) check_cover(pool, n);
    for (std::int64_t grain : {1, 3, 64}) check_cover(pool, 1001, grain);
  }
}

// Uneven items: one thread stuck on a slow item does not hold back the rest, which the other
// thread takes from the back of the stuck thread's share (without that, thread 0 would run items
// 0..n/2).
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

using Spans = std::vector<std::pair<std::size_t, std::size_t>>;

Spans spans_of(std::span<const NextRead> next, int threads, int index, std::size_t limit) {
  Spans out(next.size());
  ThreadPool::lookahead_spans(next, threads, index, limit, out);
  return out;
}

// Two ranges of 10 units each (100 and 400 bytes per unit): a thread's span starts where its
// share of the 20 units starts and stops at the end of that share or of its byte limit.
TEST(ThreadPool, LookaheadFollowsTheNextStepsShares) {
  static char a[1000], b[4000];
  const NextRead next[] = {{a, sizeof a, 10}, {b, sizeof b, 10}};
  EXPECT_EQ(spans_of(next, 2, 0, 1 << 20), (Spans{{0, 1000}, {0, 0}}));
  EXPECT_EQ(spans_of(next, 2, 1, 1 << 20), (Spans{{0, 0}, {0, 4000}}));
  EXPECT_EQ(spans_of(next, 2, 1, 1500), (Spans{{0, 0}, {0, 1500}}));
  // Three threads: units [0, 6), [6, 13), [13, 20).
  EXPECT_EQ(spans_of(next, 3, 0, 1 << 20), (Spans{{0, 600}, {0, 0}}));
  EXPECT_EQ(spans_of(next, 3, 1, 1 << 20), (Spans{{600, 1000}, {0, 1200}}));
  EXPECT_EQ(spans_of(next, 3, 1, 500), (Spans{{600, 1000}, {0, 100}}));
  EXPECT_EQ(spans_of(next, 3, 2, 1 << 20), (Spans{{0, 0}, {1200, 4000}}));
  // A range of no units is skipped; units need not divide the bytes.
  const NextRead odd[] = {{a, 7, 0}, {b, 10, 3}};
  EXPECT_EQ(spans_of(odd, 2, 0, 1 << 20), (Spans{{0, 0}, {0, 3}}));
  EXPECT_EQ(spans_of(odd, 2, 1, 1 << 20), (Spans{{0, 0}, {3, 10}}));
}

// Waiting threads only prefetch what `next` names, never read it: memory no one may read works.
TEST(ThreadPool, NextReadsAreOnlyPrefetched) {
  constexpr std::size_t kBytes = std::size_t{4} << 20;
  void* p = ::mmap(nullptr, kBytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  std::vector<NextRead> next(ThreadPool::kMaxNextReads + 4, NextRead{p, kBytes / 32, 3});  // more than it keeps
  ThreadPool pool(3);
  std::atomic<std::int64_t> total{0};
  for (int i = 0; i < 200; ++i) {
    pool.parallel_for(i % 7 + 2, [&](std::int64_t b, std::int64_t e, int) { total += e - b; }, 1, next);
    if (i % 20 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));  // waiting workers prefetch
  }
  std::int64_t want = 0;
  for (int i = 0; i < 200; ++i) want += i % 7 + 2;
  EXPECT_EQ(total, want);
  ::munmap(p, kBytes);
}

TEST(ThreadPool, SizeDefaultsToHardware) {
  ThreadPool pool(0);
  EXPECT_EQ(pool.size(), ThreadPool::hardware_threads());
}

}  // namespace
}  // namespace dsv2
