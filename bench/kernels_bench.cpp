// matmul throughput per weight type: rows = 1 (decode, memory bound: GB/s of weight bytes) and
// rows = 64 (prompt processing, compute bound: GFLOP/s) at 1 and 2 threads, on the shapes of
// DeepSeek-V2-Lite's expert down projection (2048 x 1408) and dense MLP (10944 x 2048).
// Shapes are [out, in]. The *_r16 types are the row-interleaved layouts models load into.
// The weights of each case are 4 copies cycled through (>= 4x the last-level cache for the big
// shape) so gemv numbers measure memory, not cache.
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/matmul.h"
#include "kernels/query_lanes.h"
#include "kernels/thread_pool.h"

namespace {

using namespace dsv2;

struct Shape {
  std::int64_t out, in;
};

struct Fixture {
  std::vector<std::vector<std::uint8_t>> copies;
  std::vector<float> x, y;
};

Fixture make(DType t, Shape s, std::int64_t rows, int copies) {
  std::mt19937 rng(1);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> w(static_cast<std::size_t>(s.out * s.in));
  for (float& v : w) v = dist(rng);
  Fixture f;
  f.copies.emplace_back(static_cast<std::size_t>(s.out) * row_bytes(t, s.in));
  quantize_rows(t, w.data(), s.out, s.in, f.copies[0].data());
  for (int i = 1; i < copies; ++i) f.copies.push_back(f.copies[0]);
  f.x.resize(static_cast<std::size_t>(rows * s.in));
  for (float& v : f.x) v = dist(rng);
  f.y.resize(static_cast<std::size_t>(rows * s.out));
  return f;
}

void BM_matmul(benchmark::State& state, DType t, Shape s, std::int64_t rows) {
  const int threads = static_cast<int>(state.range(0));
  const int copies = rows == 1 ? 4 : 1;
  Fixture f = make(t, s, rows, copies);
  ThreadPool pool(threads);
  std::size_t i = 0;
  for (auto _ : state) {
    const Tensor w{t, {s.out, s.in}, f.copies[i++ % f.copies.size()].data()};
    matmul(w, f.x.data(), rows, f.y.data(), &pool);
    benchmark::DoNotOptimize(f.y.data());
  }
  const double bytes = static_cast<double>(f.copies[0].size());
  state.counters["GB/s"] = benchmark::Counter(bytes, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * static_cast<double>(s.out * s.in * rows),
                                                 benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::string(kernels::isa_name(kernels::active_isa())));
}

// The query-lane kernels at attention's shapes: nq queries (heads) against nr cached rows of
// n floats (DeepSeek-V2-Lite: 16 heads, rows of 576, values the first 512), one thread; GFLOP/s
// counts a multiply-add as 2. dots = scores, sums = values; mla.cpp scores Lite's rows two at
// a time (nq 32).
void BM_lanes(benchmark::State& state, bool dots, std::int64_t nq) {
  const std::int64_t nr = state.range(0), n = dots ? 576 : 512, ld = 576;
  std::mt19937 rng(1);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> rows(static_cast<std::size_t>(nr * ld)), q(static_cast<std::size_t>(std::max(n, nr) * nq));
  std::vector<float> y(static_cast<std::size_t>(std::max(n, nr) * nq));
  for (float& v : rows) v = dist(rng);
  for (float& v : q) v = dist(rng);
  for (auto _ : state) {
    if (dots) lane_dots(rows.data(), ld, nr, n, q.data(), nq, nq, y.data(), nq);
    else lane_sums(rows.data(), ld, nr, n, q.data(), nq, nq, y.data(), n);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * static_cast<double>(nr * n * nq),
                                                 benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::string(kernels::isa_name(kernels::active_isa())));
}

void register_all() {
  for (bool dots : {true, false})
    for (std::int64_t nq : {16, 32, 128}) {
      const std::string name = std::string("lanes/") + (dots ? "dots" : "sums") + "/nq:" + std::to_string(nq);
      benchmark::RegisterBenchmark(name.c_str(), BM_lanes, dots, nq)
          ->Arg(64)->Arg(1536)->ArgName("rows")->MinTime(0.3)->Unit(benchmark::kMicrosecond);
    }
  const DType types[] = {DType::Q4_0_R16, DType::Q8_0_R16, DType::Q4_K_R16, DType::Q5_K_R16, DType::Q6_K_R16,
                         DType::Q4_0,     DType::Q8_0,     DType::Q4_K,     DType::Q5_K,     DType::Q6_K,
                         DType::F16,      DType::BF16,     DType::F32};
  for (DType t : types) {
    // K-quants need columns in multiples of 256, which 1408 is not: they run the expert
    // gate/up shape 1408 x 2048 instead (same size).
    const Shape expert = dtype_info(t).block_size == 256 ? Shape{1408, 2048} : Shape{2048, 1408};
    for (Shape s : {expert, Shape{10944, 2048}}) {
      for (std::int64_t rows : {1, 64}) {
        const std::string name = "matmul/" + std::string(dtype_name(t)) + "/" + std::to_string(s.out) + "x" +
                                  std::to_string(s.in) + "/rows:" + std::to_string(rows);
        benchmark::RegisterBenchmark(name.c_str(), BM_matmul, t, s, rows)
            ->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime()->MinTime(0.3)->Unit(benchmark::kMicrosecond);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
