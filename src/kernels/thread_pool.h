// A persistent pool of worker threads, created once and sized by -t. parallel_for splits a range
// into one contiguous chunk per thread; the calling thread does chunk 0, so a pool of size 1 runs
// everything inline with no synchronisation. Workers spin briefly before sleeping: a decode step
// issues hundreds of short parallel_for calls, and a futex wake-up per call costs more than the
// work itself.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace dsv2 {

// A non-owning reference to a callable fn(begin, end, thread): unlike std::function it never
// allocates, so parallel_for with any lambda is allocation-free.
class RangeFn {
 public:
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, RangeFn>>>
  RangeFn(F&& f)  // NOLINT: implicit, so lambdas pass straight in
      : obj_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* o, std::int64_t b, std::int64_t e, int t) { (*static_cast<std::remove_reference_t<F>*>(o))(b, e, t); }) {}
  void operator()(std::int64_t b, std::int64_t e, int t) const { call_(obj_, b, e, t); }

 private:
  void* obj_;
  void (*call_)(void*, std::int64_t, std::int64_t, int);
};

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);  // n_threads <= 0: all hardware threads
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // fn(begin, end, thread_index) over [0, n) split in size() chunks; blocks until all are done.
  // Chunk boundaries depend only on n and size().
  void parallel_for(std::int64_t n, RangeFn fn);

  static int hardware_threads();

 private:
  void worker(int index);
  bool wait_for_job(std::uint64_t seen);

  int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_start_;
  const RangeFn* job_ = nullptr;
  std::int64_t job_n_ = 0;
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace dsv2
