// A persistent pool of worker threads, created once and sized by -t. parallel_for hands out a
// range in chunks from a shared counter, the calling thread taking part, so a thread that finishes
// early (or started late) takes more: work items of uneven cost (MoE experts with different
// token counts) balance themselves. A pool of size 1 runs everything inline with no
// synchronisation. Workers spin briefly before sleeping: a decode step issues hundreds of short
// parallel_for calls, and a futex wake-up per call costs more than the work itself.
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

  // fn(begin, end, thread_index) over chunks covering [0, n) once; blocks until all are done. A
  // thread may get several chunks. Chunks hold `grain` items (0: about n / (8 size()), at least
  // 1); which thread runs which chunk varies from call to call, so fn's results must not depend
  // on it.
  void parallel_for(std::int64_t n, RangeFn fn, std::int64_t grain = 0);

  static int hardware_threads();

 private:
  void worker(int index);
  bool wait_for_job(std::uint64_t seen);
  void run_chunks(int index);

  int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_start_;
  const RangeFn* job_ = nullptr;
  std::int64_t job_n_ = 0, job_grain_ = 1;
  alignas(64) std::atomic<std::int64_t> next_{0};  // first item not yet handed out
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace dsv2
