// Internal: the query-lane kernels (kernels.h: LaneDots, LaneSoftmax, LaneSums) written once for
// every SIMD level. An ISA file supplies a traits class S (vector type, lane count, tile sizes
// and a few wrapped intrinsics, listed under "S provides" below) from its anonymous namespace and
// instantiates lane_dots_simd<S> etc., so each instantiation stays private to its translation
// unit. Lane q of a vector is query q (dots, softmax) or column q (sums): a row value is
// broadcast and meets a whole vector in one fma, and no output needs a horizontal sum. Each lane
// runs the scalar reference's operations (query_lanes.cpp) in the same order, so every level is
// bit-identical to it.
//
// S provides: kLanes; V; M (a lane mask); first(n) (mask of the first min(n, kLanes) lanes);
// zero(); load(p) / load(p, m) (masked lanes read as 0); store(p, x) / store(p, m, x);
// broadcast(p); set1(x); fmadd(a, b, c) = a * b + c and fnmadd = c - a * b (one rounding);
// add, sub, mul, div, max(a, b) = a > b ? a : b; round(x) to nearest even; pow2(n) = 2^n for
// integral n in [-126, 127]; zero_below(x, lo, y) = x < lo ? 0 : y. Tiles: kDotRows x kDotVectors
// (rows x query vectors), kSumQueries x kSumVectors (queries x column vectors), kSumRowChunk.
#pragma once
#include <array>
#include <cstdint>
#include <iterator>
#include <utility>

#include "kernels/kernels.h"
#include "kernels/prefetch.h"
#include "kernels/tile.h"

namespace dsv2::kernels {

// exp(x) = 2^n * e^r with n = round(x / ln 2) and |r| <= ln(2) / 2; e^r by its Taylor series to
// r^7 (the first term left out, r^8 / 8!, is under 0.1 ulp there), so the coefficients are just
// 1 / k! rather than a fitted table. ln 2 is split Cody-Waite style: n * kLn2Hi is exact (kLn2Hi
// has 9 significant bits), so only kLn2Lo's term rounds r. Below kExpMin (e^x < 1e-38,
// subnormal) the result is 0: softmax weights that small vanish next to the largest, which is 1.
// Valid for x <= 88 (softmax only ever passes x <= 0). Measured: within 0.9 ulp of exp.
namespace lane_exp_consts {
constexpr float kLog2e = 1.44269502f;
constexpr float kLn2Hi = 0.693359375f;
constexpr float kLn2Lo = -2.12194442e-4f;
constexpr float kExpMin = -87.5f;  // n >= -126 above it, so 2^n is a normal float
constexpr float kC[] = {1.0f / 5040, 1.0f / 720, 1.0f / 120, 1.0f / 24, 1.0f / 6, 0.5f, 1.0f, 1.0f};
}  // namespace lane_exp_consts

// Software prefetch of the rows: at long context (thousands of cached rows, read from memory)
// the hardware prefetcher alone left both kernels waiting on it. Measured on Zen 4 (2026-12-07,
// docs/benchmarks.md), a layer's 4096 cached rows of 576 floats, one thread: dots 1.02 -> 0.74 ms,
// sums 1.06 -> 0.74 ms, close to their speed on rows already in cache. Dots fetch the next
// tile's rows at the element being read (one line per row every 16 elements); sums, walking
// down the rows, fetch the row kSumPrefetchRows ahead (16 beat 4, 8 and 32), once per row — by
// the chunk's first query tile, the others find it in cache. Prefetches past the last row are
// harmless: a prefetch never faults.
constexpr std::int64_t kSumPrefetchRows = 16;

// Vector v of a tile with V vectors: full, or the lanes of `tail` (zero-filled) for the last.
template <class S, int V>
inline typename S::V load_part(const float* p, int v, typename S::M tail) {
  return v + 1 < V ? S::load(p) : S::load(p, tail);
}
template <class S, int V>
inline void store_part(float* p, int v, typename S::M tail, typename S::V x) {
  if (v + 1 < V) S::store(p, x);
  else S::store(p, tail, x);
}

// Dots, R rows x V vectors of queries: per element d, V query loads feed R * V fmas. Two chains
// per output, over even and odd d, added at the end: half the rounding of one chain over all
// of d, and twice the independent fmas in flight.
template <class S>
struct DotsTile {
  static constexpr int kA = S::kDotRows, kB = S::kDotVectors;
  template <int R, int V>
  static void madd(typename S::V (&acc)[R][V], const float* const (&row)[R], std::int64_t d, const float* qt,
                   typename S::M m) {
    typename S::V q[V];
    DSV2_UNROLL
    for (int v = 0; v < V; ++v) q[v] = load_part<S, V>(qt + S::kLanes * v, v, m);
    DSV2_UNROLL
    for (int r = 0; r < R; ++r) {
      const typename S::V c = S::broadcast(row[r] + d);
      DSV2_UNROLL
      for (int v = 0; v < V; ++v) acc[r][v] = S::fmadd(c, q[v], acc[r][v]);
    }
  }
  template <int R, int V>
  static void tile(const LaneDotsArgs& a, std::int64_t r0, std::int64_t q0, std::int64_t tail) {
    const typename S::M m = S::first(tail);
    typename S::V even[R][V], odd[R][V];
    DSV2_UNROLL
    for (int r = 0; r < R; ++r)
      DSV2_UNROLL
      for (int v = 0; v < V; ++v) even[r][v] = odd[r][v] = S::zero();
    const float* row[R];  // one base register per row: the broadcasts need no address arithmetic
    DSV2_UNROLL
    for (int r = 0; r < R; ++r) row[r] = a.rows + (r0 + r) * a.ldr;
    const float* qt = a.qt + q0;
    std::int64_t d = 0;
    for (const std::int64_t n = a.n; d + 1 < n; d += 2, qt += 2 * a.ldq) {
      if (d % 16 == 0) {  // 16 floats: one 64-byte line of each row
        DSV2_UNROLL
        for (int r = 0; r < R; ++r) prefetch_far(reinterpret_cast<const char*>(row[r] + R * a.ldr + d), false);
      }
      madd<R, V>(even, row, d, qt, m);
      madd<R, V>(odd, row, d + 1, qt + a.ldq, m);
    }
    if (d < a.n) madd<R, V>(even, row, d, qt, m);
    DSV2_UNROLL
    for (int r = 0; r < R; ++r)
      DSV2_UNROLL
      for (int v = 0; v < V; ++v)
        store_part<S, V>(a.y + (r0 + r) * a.ldy + q0 + S::kLanes * v, v, m, S::add(even[r][v], odd[r][v]));
  }
};

// Sums, Q queries x V vectors of columns: per row, V column loads feed Q * V fmas. `resume`
// continues from the partial sums in y.
template <class S>
struct SumsTile {
  static constexpr int kA = S::kSumQueries, kB = S::kSumVectors;
  template <int Q, int V>
  static void tile(const LaneSumsArgs& a, std::int64_t q0, std::int64_t c0, std::int64_t tail, bool resume) {
    const typename S::M m = S::first(tail);
    typename S::V acc[Q][V];
    DSV2_UNROLL
    for (int q = 0; q < Q; ++q)
      DSV2_UNROLL
      for (int v = 0; v < V; ++v)
        acc[q][v] = resume ? load_part<S, V>(a.y + (q0 + q) * a.ldy + c0 + S::kLanes * v, v, m) : S::zero();
    const float* row = a.rows + c0;
    const float* p = a.p + q0;
    for (std::int64_t r = 0; r < a.nr; ++r, row += a.ldr, p += a.ldp) {
      if (q0 == 0) {
        DSV2_UNROLL
        for (int f = 0; f < V * S::kLanes; f += 16)  // 16 floats: one 64-byte line
          prefetch_far(reinterpret_cast<const char*>(row + kSumPrefetchRows * a.ldr + f), false);
      }
      typename S::V c[V];
      DSV2_UNROLL
      for (int v = 0; v < V; ++v) c[v] = load_part<S, V>(row + S::kLanes * v, v, m);
      DSV2_UNROLL
      for (int q = 0; q < Q; ++q) {
        const typename S::V w = S::broadcast(p + q);
        DSV2_UNROLL
        for (int v = 0; v < V; ++v) acc[q][v] = S::fmadd(w, c[v], acc[q][v]);
      }
    }
    DSV2_UNROLL
    for (int q = 0; q < Q; ++q)
      DSV2_UNROLL
      for (int v = 0; v < V; ++v) store_part<S, V>(a.y + (q0 + q) * a.ldy + c0 + S::kLanes * v, v, m, acc[q][v]);
  }
};

// Calls K::tile<A, B>(args, i, j, tail, extra...) for A <= K::kA, B <= K::kB: a table of every
// tile shape, so edge tiles run the same code with fewer rows or vectors.
template <class K, class Args, int A, int B, class... Extra>
void call_tile(const Args& a, std::int64_t i, std::int64_t j, std::int64_t tail, Extra... e) {
  K::template tile<A, B>(a, i, j, tail, e...);
}

template <class K, class Args, class... Extra, std::size_t... I>
constexpr auto tile_table(std::index_sequence<I...>) {
  using Fn = void (*)(const Args&, std::int64_t, std::int64_t, std::int64_t, Extra...);
  return std::array<Fn, sizeof...(I)>{&call_tile<K, Args, int(I / K::kB) + 1, int(I % K::kB) + 1, Extra...>...};
}

// Splits `count` lanes from `at` into at most kB vectors of kLanes: how many, and how many lanes
// the last one uses.
template <class S, int kB>
void lane_vectors(std::int64_t count, std::int64_t at, int* vectors, std::int64_t* tail) {
  const std::int64_t n = count - at < kB * S::kLanes ? count - at : kB * S::kLanes;
  *vectors = static_cast<int>((n + S::kLanes - 1) / S::kLanes);
  *tail = n - (*vectors - 1) * S::kLanes;
}

// Rows outer, so a tile's rows stay in L1 while every query vector meets them.
template <class S>
void lane_dots_simd(const LaneDotsArgs& a) {
  using K = DotsTile<S>;
  static constexpr auto table = tile_table<K, LaneDotsArgs>(std::make_index_sequence<K::kA * K::kB>{});
  for (std::int64_t r0 = 0; r0 < a.nr; r0 += K::kA) {
    const std::int64_t rows = a.nr - r0 < K::kA ? a.nr - r0 : K::kA;
    for (std::int64_t q0 = 0; q0 < a.nq; q0 += K::kB * S::kLanes) {
      int v = 0;
      std::int64_t tail = 0;
      lane_vectors<S, K::kB>(a.nq, q0, &v, &tail);
      table[static_cast<std::size_t>((rows - 1) * K::kB + v - 1)](a, r0, q0, tail);
    }
  }
}

// The rows go by in chunks of kSumRowChunk, all query tiles meeting one chunk while it is in
// L1; a tile then resumes from the partial sums it stored in y, which continues each output's
// fma chain exactly (the first chunk always runs, so nr = 0 writes zeros, or with a.resume
// leaves y as it was).
template <class S>
void lane_sums_simd(const LaneSumsArgs& a) {
  using K = SumsTile<S>;
  static constexpr auto table = tile_table<K, LaneSumsArgs, bool>(std::make_index_sequence<K::kA * K::kB>{});
  for (std::int64_t c0 = 0; c0 < a.n; c0 += K::kB * S::kLanes) {
    int v = 0;
    std::int64_t tail = 0;
    lane_vectors<S, K::kB>(a.n, c0, &v, &tail);
    for (std::int64_t r0 = 0; r0 == 0 || r0 < a.nr; r0 += S::kSumRowChunk) {
      LaneSumsArgs chunk = a;
      chunk.rows += r0 * a.ldr;
      chunk.p += r0 * a.ldp;
      chunk.nr = a.nr - r0 < S::kSumRowChunk ? a.nr - r0 : S::kSumRowChunk;
      for (std::int64_t q0 = 0; q0 < a.nq; q0 += K::kA) {
        const std::int64_t qs = a.nq - q0 < K::kA ? a.nq - q0 : K::kA;
        table[static_cast<std::size_t>((qs - 1) * K::kB + v - 1)](chunk, q0, c0, tail, a.resume || r0 > 0);
      }
    }
  }
}

// lane_exp (query_lanes.cpp) in every lane: the same operations in the same order.
template <class S>
inline typename S::V lane_exp_simd(typename S::V x) {
  using namespace lane_exp_consts;
  const typename S::V n = S::round(S::mul(x, S::set1(kLog2e)));
  const typename S::V r = S::fnmadd(n, S::set1(kLn2Lo), S::fnmadd(n, S::set1(kLn2Hi), x));
  typename S::V p = S::set1(kC[0]);
  for (std::size_t i = 1; i < std::size(kC); ++i) p = S::fmadd(p, r, S::set1(kC[i]));
  return S::zero_below(x, kExpMin, S::mul(p, S::pow2(n)));
}

// Per column: scale, max, exp(x - max) summed in row order, times 1 / sum.
template <class S>
void lane_softmax_simd(const LaneSoftmaxArgs& a) {
  const typename S::V scale = S::set1(a.scale);
  for (std::int64_t q0 = 0; q0 < a.nq; q0 += S::kLanes) {
    const typename S::M m = S::first(a.nq - q0);
    float* x = a.x + q0;
    typename S::V mx = S::zero();
    for (std::int64_t r = 0; r < a.nr; ++r) {
      const typename S::V v = S::mul(scale, S::load(x + r * a.ldx, m));
      S::store(x + r * a.ldx, m, v);
      mx = r == 0 ? v : S::max(v, mx);
    }
    typename S::V sum = S::zero();
    for (std::int64_t r = 0; r < a.nr; ++r) {
      const typename S::V e = lane_exp_simd<S>(S::sub(S::load(x + r * a.ldx, m), mx));
      S::store(x + r * a.ldx, m, e);
      sum = S::add(sum, e);
    }
    const typename S::V inv = S::div(S::set1(1.0f), sum);
    for (std::int64_t r = 0; r < a.nr; ++r) S::store(x + r * a.ldx, m, S::mul(S::load(x + r * a.ldx, m), inv));
  }
}

// silu_mul (query_lanes.cpp) in every lane: the same operations in the same order.
template <class S>
void silu_mul_simd(float* gate, const float* up, std::int64_t n) {
  const typename S::V one = S::set1(1.0f);
  for (std::int64_t i = 0; i < n; i += S::kLanes) {
    const typename S::M m = S::first(n - i);
    const typename S::V g = S::load(gate + i, m);
    const typename S::V e = lane_exp_simd<S>(S::neg_abs(g));
    const typename S::V sigmoid = S::div(S::select_nonneg(g, one, e), S::add(one, e));
    S::store(gate + i, m, S::mul(S::mul(g, sigmoid), S::load(up + i, m)));
  }
}

}  // namespace dsv2::kernels
