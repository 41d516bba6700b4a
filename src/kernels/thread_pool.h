// A persistent pool of worker threads, created once and sized by -t. parallel_for gives each
// thread (the calling one included) a contiguous share of the range, which it works front to
// back in shrinking claims; a thread done with its share takes claims from the back of the share
// with the most left. Contiguous shares matter for memory-bound decode: a thread reading its
// rows as one stream runs at the machine's streaming rate, while scattered chunks restart the
// prefetchers at every jump (a Lite decode step's gemvs: 31 against 28 GB/s, docs/benchmarks.md).
// Taking from the back balances items of uneven cost (MoE experts with different token counts)
// and a worker that is late (descheduled because the machine is busy) has its share taken by
// the others: the call never waits for a thread that has not started, only for claims in
// progress.
// A caller may say what its next step will read (NextRead): a thread left waiting — for the
// other threads' last claims, or for the next call while the caller does serial work between
// steps — prefetches the start of its share of that step into L2. Decode streams every weight
// from memory once per token, and those waits (~1.5 ms of a 26 ms Lite Q4_0 token on 2 cores)
// otherwise leave the memory bus idle.
// A pool of size 1 runs everything inline with no synchronisation. Workers spin briefly before
// sleeping: a decode step issues hundreds of short parallel_for calls, and a futex wake-up per
// call costs more than the work itself.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
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

// Memory that the next parallel step will read, and how many of that step's work units it
// spans (unit u of a range starts at about bytes * u / units into it). A hint only: it is never
// dereferenced, and ranges past the pool's limit are ignored.
struct NextRead {
  const void* p = nullptr;
  std::size_t bytes = 0;
  std::int64_t units = 1;
};

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);  // n_threads <= 0: all hardware threads
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // fn(begin, end, thread_index) over chunks covering [0, n) once; blocks until all are done. A
  // thread may get several chunks, or none. Each chunk is half of what is left of a share (at
  // least `grain` items, the unit worth one call, but for the last of a share); which thread
  // runs which chunk varies from call to call, so fn's results must not depend on it.
  // `next`: what the caller's next parallel_for will read, in its units (its n = their sum).
  // Dropped when this call runs inline (a pool of one, or n == 1).
  void parallel_for(std::int64_t n, RangeFn fn, std::int64_t grain = 1, std::span<const NextRead> next = {});

  // Thread `index`'s share of n items: [first, second).
  static std::pair<std::int64_t, std::int64_t> share(std::int64_t n, int threads, int index);

  // The bytes a waiting thread `index` prefetches of `next`: from the start of its share of the
  // next step's units, at most `limit` bytes, ending where its share ends. One [begin, end) per
  // range of `next`, empty where it prefetches nothing.
  static void lookahead_spans(std::span<const NextRead> next, int threads, int index, std::size_t limit,
                              std::span<std::pair<std::size_t, std::size_t>> out);

  static constexpr int kMaxNextReads = 16;
  static constexpr std::size_t kLookaheadBytes = std::size_t{512} << 10;  // half a Zen 5 L2

  static int hardware_threads();

 private:
  struct alignas(64) Share {
    // (job tag << 40) | (front << 20) | back: [front, back) is still unclaimed. A claim is a
    // compare-and-swap that fails once the tag has moved on, so a late worker can never take a
    // later job's items.
    std::atomic<std::uint64_t> range{0};
  };
  // A thread's prefetches of one job's `next`: spans of each range, and where it has got to.
  struct Lookahead {
    std::uint64_t job = 0;
    int n = 0, at = 0;
    NextRead reads[kMaxNextReads];
    std::pair<std::size_t, std::size_t> spans[kMaxNextReads];
  };
  // The job's next reads, written before the job is published; two, so the caller can write the
  // next job's while late threads still read this one's.
  struct NextSlot {
    std::atomic<const void*> p[kMaxNextReads];
    std::atomic<std::size_t> bytes[kMaxNextReads];
    std::atomic<std::int64_t> units[kMaxNextReads];
    std::atomic<int> n{0};
  };
  void publish_next(std::uint64_t job, std::span<const NextRead> next);
  // Prefetches a little more of job's next reads; false once there is nothing (left) to do.
  bool prefetch_next(std::uint64_t job, int index, Lookahead& la);
  void worker(int index);
  std::uint64_t wait_for_job(std::uint64_t seen, int index);
  // Runs claims of job `job`: its own share front to back, then the others' from the back,
  // until none is left (or another job has begun).
  void run_job(std::uint64_t job, int index);
  bool claim(Share& s, std::uint64_t tag, bool from_back, std::int64_t& b, std::int64_t& e) const;

  int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_start_;
  // The current job, in units of job_unit_ items (more than one only for ranges too long for a
  // share's 20-bit positions). A worker late for an earlier job may read these while the caller
  // writes the next one's, hence atomics; what it then claims is checked by the shares' tags.
  std::atomic<const RangeFn*> job_{nullptr};
  std::atomic<std::int64_t> job_n_{0}, job_unit_{1}, job_grain_{1};
  std::unique_ptr<Share[]> shares_;                 // one per thread
  alignas(64) std::atomic<std::int64_t> done_{0};  // units of the current job finished
  std::atomic<std::uint64_t> generation_{0};       // job number (the first is 1); wakes the workers
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
  NextSlot next_[2];
};

}  // namespace dsv2
