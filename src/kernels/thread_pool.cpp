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

void ThreadPool::run_chunks(int index) {
  for (;;) {
    const std::int64_t b = next_.fetch_add(job_grain_, std::memory_order_relaxed);
    if (b >= job_n_) return;
    (*job_)(b, std::min(b + job_grain_, job_n_), index);
  }
}

void ThreadPool::parallel_for(std::int64_t n, RangeFn fn, std::int64_t grain) {
  if (n <= 0) return;
  if (n_threads_ == 1 || n == 1) {
    fn(0, n, 0);
    return;
  }
  job_ = &fn;
  job_n_ = n;
  job_grain_ = grain > 0 ? grain : std::max<std::int64_t>(1, n / (8 * n_threads_));
  next_.store(0, std::memory_order_relaxed);
  pending_.store(n_threads_ - 1);
  generation_.fetch_add(1);  // seq_cst: publishes the job; ordered before the sleepers_ load below
  if (sleepers_.load() > 0) {
    // A worker that counted itself asleep holds mu_ from its last check until it waits, so
    // taking mu_ here means the notify cannot fall between the two.
    { std::lock_guard<std::mutex> lock(mu_); }
    cv_start_.notify_all();
  }
  run_chunks(0);
  for (int spin = 0; pending_.load(std::memory_order_acquire) != 0; ++spin) {
    if (spin < kSpin) DSV2_PAUSE();
    else std::this_thread::yield();
  }
  job_ = nullptr;
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
    run_chunks(index);
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

}  // namespace dsv2
