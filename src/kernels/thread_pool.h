// A persistent pool of worker threads, created once and sized by -t. parallel_for hands out a
// range in shrinking (guided) chunks, the calling thread taking part: a thread that finishes early takes more, so
// work items of uneven cost (MoE experts with different token counts) balance themselves, and a
// worker that is late (descheduled because the machine is busy with something else) simply gets
// no chunk: the call never waits for a thread that has not started, only for chunks in progress.
// A pool of size 1 runs everything inline with no synchronisation. Workers spin briefly before
// sleeping: a decode step issues hundreds of short parallel_for calls, and a futex wake-up per
// call costs more than the work itself.
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
  // thread may get several chunks, or none. Each chunk is a share of the items not yet handed
  // out, at least `grain` of them (the unit worth one call); which thread runs which chunk varies
  // from call to call, so fn's results must not depend on it.
  void parallel_for(std::int64_t n, RangeFn fn, std::int64_t grain = 1);

  static int hardware_threads();

 private:
  void worker(int index);
  bool wait_for_job(std::uint64_t seen);
  // Claims and runs chunks of job `job` until none is left (or another job has begun).
  void run_chunks(std::uint64_t job, int index);

  int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_start_;
  // The current job. A worker late for an earlier job may read these while the caller writes the
  // next one's, hence atomics: the caller first makes the ticket unclaimable (see parallel_for).
  std::atomic<const RangeFn*> job_{nullptr};
  std::atomic<std::int64_t> job_n_{0}, job_grain_{1};
  // (job number << kIndexBits) | first item not yet claimed: a claim is a compare-and-swap that
  // fails once the job number has moved on, so a late worker can never take a later job's items.
  alignas(64) std::atomic<std::uint64_t> ticket_{0};
  alignas(64) std::atomic<std::int64_t> done_{0};  // items of the current job finished
  std::atomic<std::uint64_t> generation_{0};       // job number; wakes the workers
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace dsv2
