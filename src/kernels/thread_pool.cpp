#include "kernels/thread_pool.h"

#include <algorithm>

#include "kernels/prefetch.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define DSV2_PAUSE() _mm_pause()
#else
#define DSV2_PAUSE() ((void)0)
#endif

namespace dsv2 {

namespace {

// ~50-100 µs of pause: longer than the gaps between a step's parallel_for calls, short enough
// that an idle pool stops burning a core shared with other processes.
constexpr int kSpin = 20000;

// Bytes a waiting thread prefetches between two looks at whether its wait is over.
constexpr std::size_t kPrefetchChunk = 2048;

// A share's range packs a job tag (24 bits; it wraps, which is harmless: a worker would have to
// stall across 16 million jobs) and two 20-bit positions.
constexpr int kPosBits = 20;
constexpr std::uint64_t kPosMask = (std::uint64_t{1} << kPosBits) - 1;
constexpr std::int64_t kMaxUnits = std::int64_t{1} << kPosBits;
constexpr std::uint64_t kTagMask = (std::uint64_t{1} << 24) - 1;

std::uint64_t pack(std::uint64_t tag, std::int64_t front, std::int64_t back) {
  return tag << (2 * kPosBits) | static_cast<std::uint64_t>(front) << kPosBits | static_cast<std::uint64_t>(back);
}
std::uint64_t tag_of(std::uint64_t v) { return v >> (2 * kPosBits); }
std::int64_t front_of(std::uint64_t v) { return static_cast<std::int64_t>((v >> kPosBits) & kPosMask); }
std::int64_t back_of(std::uint64_t v) { return static_cast<std::int64_t>(v & kPosMask); }
std::int64_t left_of(std::uint64_t v) { return back_of(v) - front_of(v); }

}  // namespace

int ThreadPool::hardware_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

std::pair<std::int64_t, std::int64_t> ThreadPool::share(std::int64_t n, int threads, int index) {
  return {n * index / threads, n * (index + 1) / threads};
}

void ThreadPool::lookahead_spans(std::span<const NextRead> next, int threads, int index, std::size_t limit,
                                 std::span<std::pair<std::size_t, std::size_t>> out) {
  std::int64_t total = 0;
  for (const NextRead& r : next) total += std::max<std::int64_t>(r.units, 0);
  const auto [u0, u1] = share(total, threads, index);
  std::int64_t before = 0;  // units of the ranges before this one
  for (std::size_t i = 0; i < next.size() && i < out.size(); ++i) {
    const NextRead& r = next[i];
    const std::int64_t units = std::max<std::int64_t>(r.units, 0);
    out[i] = {0, 0};
    if (units > 0) {
      const auto a = static_cast<std::size_t>(std::clamp(u0 - before, std::int64_t{0}, units));
      const auto b = static_cast<std::size_t>(std::clamp(u1 - before, std::int64_t{0}, units));
      const std::size_t begin = r.bytes / units * a + r.bytes % units * a / units;  // bytes * a / units
      const std::size_t end = std::min(r.bytes / units * b + r.bytes % units * b / units, begin + limit);
      if (begin < end) out[i] = {begin, end}, limit -= end - begin;
    }
    before += units;
  }
}

ThreadPool::ThreadPool(int n_threads)
    : n_threads_(n_threads > 0 ? n_threads : hardware_threads()),
      shares_(std::make_unique<Share[]>(static_cast<std::size_t>(n_threads_))) {
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    generation_.fetch_add(1);
  }
  cv_start_.notify_all();
  for (auto& t : workers_) t.join();
}

// Half of what is left of share s (at least grain units), from its front or its back.
bool ThreadPool::claim(Share& s, std::uint64_t tag, bool from_back, std::int64_t& b, std::int64_t& e) const {
  const std::int64_t grain = job_grain_.load(std::memory_order_relaxed);
  std::uint64_t v = s.range.load(std::memory_order_acquire);
  for (;;) {
    const std::int64_t left = left_of(v);
    if (tag_of(v) != tag || left <= 0) return false;
    const std::int64_t take = std::min(left, std::max(grain, (left + 1) / 2));
    const std::int64_t f = front_of(v), k = back_of(v);
    const std::uint64_t next = from_back ? pack(tag, f, k - take) : pack(tag, f + take, k);
    if (s.range.compare_exchange_weak(v, next, std::memory_order_acq_rel)) {
      b = from_back ? k - take : f;
      e = b + take;
      return true;
    }  // v now holds the share's current range
  }
}

void ThreadPool::run_job(std::uint64_t job, int index) {
  // Read before the first claim: a claim that succeeds proves the job has not ended, so these
  // (written before the job was published, rewritten only after it ends) belong to it.
  const RangeFn* fn = job_.load(std::memory_order_acquire);
  const std::int64_t n = job_n_.load(std::memory_order_acquire), unit = job_unit_.load(std::memory_order_acquire);
  const std::uint64_t tag = job & kTagMask;
  auto run = [&](std::int64_t b, std::int64_t e) {
    (*fn)(b * unit, std::min(e * unit, n), index);
    done_.fetch_add(e - b, std::memory_order_release);
  };
  std::int64_t b = 0, e = 0;
  while (claim(shares_[static_cast<std::size_t>(index)], tag, false, b, e)) run(b, e);
  for (;;) {  // then from the back of the share with the most left
    Share* victim = nullptr;
    std::int64_t most = 0;
    for (int i = 0; i < n_threads_; ++i) {
      Share& s = shares_[static_cast<std::size_t>(i)];
      const std::uint64_t v = s.range.load(std::memory_order_relaxed);
      if (i != index && tag_of(v) == tag && left_of(v) > most) most = left_of(v), victim = &s;
    }
    if (victim == nullptr) return;
    if (claim(*victim, tag, true, b, e)) run(b, e);
  }
}

void ThreadPool::publish_next(std::uint64_t job, std::span<const NextRead> next) {
  NextSlot& s = next_[job & 1];
  // Orders the previous job's publication before these writes: a late thread that reads them
  // for an older job of this slot then sees that job has ended (prefetch_next).
  std::atomic_thread_fence(std::memory_order_release);
  const int n = static_cast<int>(std::min<std::size_t>(next.size(), kMaxNextReads));
  for (int i = 0; i < n; ++i) {
    s.p[i].store(next[i].p, std::memory_order_relaxed);
    s.bytes[i].store(next[i].bytes, std::memory_order_relaxed);
    s.units[i].store(next[i].units, std::memory_order_relaxed);
  }
  s.n.store(n, std::memory_order_relaxed);
}

bool ThreadPool::prefetch_next(std::uint64_t job, int index, Lookahead& la) {
  if (la.job != job) {  // first call for this job: copy its reads and work out this thread's part
    la.job = job, la.at = 0;
    const NextSlot& s = next_[job & 1];
    la.n = std::clamp(s.n.load(std::memory_order_relaxed), 0, kMaxNextReads);
    for (int i = 0; i < la.n; ++i)
      la.reads[i] = {s.p[i].load(std::memory_order_relaxed), s.bytes[i].load(std::memory_order_relaxed),
                     s.units[i].load(std::memory_order_relaxed)};
    std::atomic_thread_fence(std::memory_order_acquire);
    if (generation_.load(std::memory_order_relaxed) != job) la.n = 0;  // a later job may have rewritten them
    lookahead_spans({la.reads, static_cast<std::size_t>(la.n)}, n_threads_, index, kLookaheadBytes,
                    {la.spans, static_cast<std::size_t>(la.n)});
  }
  for (; la.at < la.n; ++la.at) {
    auto& [begin, end] = la.spans[la.at];
    if (begin >= end) continue;
    const char* p = static_cast<const char*>(la.reads[la.at].p) + begin;
    const std::size_t k = std::min(end - begin, kPrefetchChunk);
    for (std::size_t o = 0; o < k; o += 64) kernels::prefetch_far(p + o, false);
    begin += k;
    return true;
  }
  return false;
}

void ThreadPool::parallel_for(std::int64_t n, RangeFn fn, std::int64_t grain, std::span<const NextRead> next) {
  if (n <= 0) return;
  if (n_threads_ == 1 || n == 1) {
    fn(0, n, 0);
    return;
  }
  const std::uint64_t job = generation_.load(std::memory_order_relaxed) + 1;
  const std::int64_t unit = (n + kMaxUnits - 1) / kMaxUnits, units = (n + unit - 1) / unit;
  // Fields, then shares, then the job number: a worker reads the fields only after seeing the
  // number, and a worker late with an older number finds no share carrying its tag.
  job_.store(&fn, std::memory_order_release);
  job_n_.store(n, std::memory_order_release);
  job_unit_.store(unit, std::memory_order_release);
  job_grain_.store((std::max<std::int64_t>(grain, 1) + unit - 1) / unit, std::memory_order_release);
  done_.store(0, std::memory_order_relaxed);
  for (int i = 0; i < n_threads_; ++i) {
    const auto [b, e] = share(units, n_threads_, i);
    shares_[static_cast<std::size_t>(i)].range.store(pack(job & kTagMask, b, e), std::memory_order_release);
  }
  publish_next(job, next);
  generation_.store(job);  // seq_cst: publishes the job; ordered before the sleepers_ load below
  if (sleepers_.load() > 0) {
    // A worker that counted itself asleep holds mu_ from its last check until it waits, so
    // taking mu_ here means the notify cannot fall between the two.
    { std::lock_guard<std::mutex> lock(mu_); }
    cv_start_.notify_all();
  }
  run_job(job, 0);
  // Every unit is claimed; wait only for the claims other threads are still running.
  Lookahead la;
  bool prefetching = true;
  for (int spin = 0; done_.load(std::memory_order_acquire) != units; ++spin) {
    if (prefetching) prefetching = prefetch_next(job, 0, la);
    else if (spin < kSpin) DSV2_PAUSE();
    else std::this_thread::yield();
  }
}

// The number of a job newer than `seen`, or 0 when the pool is stopping. It returns the number
// it saw change, never a later read of it: the destructor's final increment must not pass for a
// job (a worker that took it for one waited for the next forever, and the destructor with it).
// While it spins it prefetches its part of job `seen`'s next reads.
std::uint64_t ThreadPool::wait_for_job(std::uint64_t seen, int index) {
  Lookahead la;
  bool prefetching = seen != 0;
  for (int spin = 0; spin < kSpin; ++spin) {
    const std::uint64_t g = generation_.load(std::memory_order_acquire);
    if (g != seen) return stop_ ? 0 : g;
    if (prefetching) prefetching = prefetch_next(seen, index, la);
    else DSV2_PAUSE();
  }
  std::unique_lock<std::mutex> lock(mu_);
  sleepers_.fetch_add(1);
  cv_start_.wait(lock, [&] { return stop_ || generation_.load() != seen; });
  sleepers_.fetch_sub(1);
  return stop_ ? 0 : generation_.load();
}

void ThreadPool::worker(int index) {
  for (std::uint64_t job = 0; (job = wait_for_job(job, index)) != 0;) run_job(job, index);
}

}  // namespace dsv2
