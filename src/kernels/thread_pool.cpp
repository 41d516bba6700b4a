#include "kernels/thread_pool.h"

#include <algorithm>

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

// A ticket's low bits count items (2^40: far more than any range); the job number wraps in the
// high 24 bits, which is harmless: a worker would have to stall across 16 million jobs.
constexpr int kIndexBits = 40;
constexpr std::uint64_t kIndexMask = (std::uint64_t{1} << kIndexBits) - 1;

std::uint64_t ticket_of(std::uint64_t job) { return job << kIndexBits; }

}  // namespace

int ThreadPool::hardware_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

ThreadPool::ThreadPool(int n_threads)
    : n_threads_(n_threads > 0 ? n_threads : hardware_threads()) {
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

void ThreadPool::run_chunks(std::uint64_t job, int index) {
  // Read before the first claim: a claim that succeeds proves these belong to `job`.
  const RangeFn* fn = job_.load(std::memory_order_acquire);
  const std::int64_t n = job_n_.load(std::memory_order_acquire), grain = job_grain_.load(std::memory_order_acquire);
  const std::int64_t parts = 2 * static_cast<std::int64_t>(n_threads_);
  std::uint64_t t = ticket_.load(std::memory_order_acquire);
  for (;;) {
    const auto b = static_cast<std::int64_t>(t & kIndexMask);
    if ((t & ~kIndexMask) != ticket_of(job) || b >= n) return;
    // Guided: a share of what is left, so chunks shrink towards the end and the threads finish
    // together (the last chunk is at most `grain` items), with few claims at the start.
    const std::int64_t take = std::max(grain, (n - b + parts - 1) / parts);
    if (!ticket_.compare_exchange_weak(t, t + static_cast<std::uint64_t>(take), std::memory_order_acq_rel))
      continue;  // t now holds the current ticket
    const std::int64_t e = std::min(b + take, n);
    (*fn)(b, e, index);
    done_.fetch_add(e - b, std::memory_order_release);
    t = ticket_.load(std::memory_order_acquire);
  }
}

void ThreadPool::parallel_for(std::int64_t n, RangeFn fn, std::int64_t grain) {
  if (n <= 0) return;
  if (n_threads_ == 1 || n == 1) {
    fn(0, n, 0);
    return;
  }
  const std::uint64_t job = (generation_.load(std::memory_order_relaxed) + 1) & (~std::uint64_t{0} >> kIndexBits);
  // Unclaimable first: a worker still holding the previous job's number that reads any of the
  // fields below (release stores after this one) then sees this ticket and claims nothing.
  ticket_.store(ticket_of(job) | kIndexMask, std::memory_order_relaxed);
  job_.store(&fn, std::memory_order_release);
  job_n_.store(n, std::memory_order_release);
  job_grain_.store(std::max<std::int64_t>(grain, 1), std::memory_order_release);
  done_.store(0, std::memory_order_relaxed);
  ticket_.store(ticket_of(job), std::memory_order_release);
  generation_.store(job);  // seq_cst: publishes the job; ordered before the sleepers_ load below
  if (sleepers_.load() > 0) {
    // A worker that counted itself asleep holds mu_ from its last check until it waits, so
    // taking mu_ here means the notify cannot fall between the two.
    { std::lock_guard<std::mutex> lock(mu_); }
    cv_start_.notify_all();
  }
  run_chunks(job, 0);
  // Every item is claimed; wait only for the chunks other threads are still running.
  for (int spin = 0; done_.load(std::memory_order_acquire) != n; ++spin) {
    if (spin < kSpin) DSV2_PAUSE();
    else std::this_thread::yield();
  }
}

// Returns false when the pool is stopping.
bool ThreadPool::wait_for_job(std::uint64_t seen) {
  for (int spin = 0; spin < kSpin; ++spin) {
    if (generation_.load(std::memory_order_acquire) != seen) return !stop_;
    DSV2_PAUSE();
  }
  std::unique_lock<std::mutex> lock(mu_);
  sleepers_.fetch_add(1);
  cv_start_.wait(lock, [&] { return generation_.load() != seen; });
  sleepers_.fetch_sub(1);
  return !stop_;
}

void ThreadPool::worker(int index) {
  std::uint64_t seen = 0;
  for (;;) {
    if (!wait_for_job(seen)) return;
    seen = generation_.load(std::memory_order_acquire);
    run_chunks(seen, index);
  }
}

}  // namespace dsv2
