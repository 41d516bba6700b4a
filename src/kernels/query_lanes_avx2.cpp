// AVX2 + FMA query-lane kernels (kernels.h): as query_lanes_avx512.cpp with 8 lanes, and partial
// vectors through vmaskmovps. Bit-identical to the scalar reference (query_lanes.cpp).
#include <immintrin.h>

#include "kernels/isa_impl.h"
#include "kernels/query_lanes_impl.h"

namespace dsv2::kernels::avx2 {

namespace {

inline __m256i first(std::int64_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n < 8 ? n : 8)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// Vector v of a tile with V vectors: full, or the lanes of `tail` (zero-filled) for the last.
template <int V>
inline __m256 load(const float* p, int v, __m256i tail) {
  return v + 1 < V ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, tail);
}
template <int V>
inline void store(float* p, int v, __m256i tail, __m256 x) {
  if (v + 1 < V) _mm256_storeu_ps(p, x);
  else _mm256_maskstore_ps(p, tail, x);
}

// R rows x V vectors of 8 queries (16 registers: R * V accumulators, V queries, a broadcast).
struct Dots {
  static constexpr int kLanes = 8, kA = 6, kB = 2;
  template <int R, int V>
  static void tile(const LaneDotsArgs& a, std::int64_t r0, std::int64_t q0, std::int64_t tail) {
    const __m256i m = first(tail);
    __m256 acc[R][V];
    DSV2_UNROLL
    for (int r = 0; r < R; ++r)
      DSV2_UNROLL
      for (int v = 0; v < V; ++v) acc[r][v] = _mm256_setzero_ps();
    const float* row[R];  // one base register per row: the broadcasts need no address arithmetic
    DSV2_UNROLL
    for (int r = 0; r < R; ++r) row[r] = a.rows + (r0 + r) * a.ldr;
    const float* qt = a.qt + q0;
    for (std::int64_t d = 0, n = a.n; d < n; ++d, qt += a.ldq) {
      __m256 q[V];
      DSV2_UNROLL
      for (int v = 0; v < V; ++v) q[v] = load<V>(qt + 8 * v, v, m);
      DSV2_UNROLL
      for (int r = 0; r < R; ++r) {
        const __m256 c = _mm256_broadcast_ss(row[r] + d);
        DSV2_UNROLL
        for (int v = 0; v < V; ++v) acc[r][v] = _mm256_fmadd_ps(c, q[v], acc[r][v]);
      }
    }
    DSV2_UNROLL
    for (int r = 0; r < R; ++r)
      DSV2_UNROLL
      for (int v = 0; v < V; ++v) store<V>(a.y + (r0 + r) * a.ldy + q0 + 8 * v, v, m, acc[r][v]);
  }
};

// Q queries x V vectors of 8 columns.
struct Sums {
  static constexpr int kLanes = 8, kA = 6, kB = 2, kRowChunk = 256;  // 16 KB of rows
  template <int Q, int V>
  static void tile(const LaneSumsArgs& a, std::int64_t q0, std::int64_t c0, std::int64_t tail, bool resume) {
    const __m256i m = first(tail);
    __m256 acc[Q][V];
    DSV2_UNROLL
    for (int q = 0; q < Q; ++q)
      DSV2_UNROLL
      for (int v = 0; v < V; ++v)
        acc[q][v] = resume ? load<V>(a.y + (q0 + q) * a.ldy + c0 + 8 * v, v, m) : _mm256_setzero_ps();
    const float* row = a.rows + c0;
    const float* p = a.p + q0;
    for (std::int64_t r = 0; r < a.nr; ++r, row += a.ldr, p += a.ldp) {
      __m256 c[V];
      DSV2_UNROLL
      for (int v = 0; v < V; ++v) c[v] = load<V>(row + 8 * v, v, m);
      DSV2_UNROLL
      for (int q = 0; q < Q; ++q) {
        const __m256 w = _mm256_broadcast_ss(p + q);
        DSV2_UNROLL
        for (int v = 0; v < V; ++v) acc[q][v] = _mm256_fmadd_ps(w, c[v], acc[q][v]);
      }
    }
    DSV2_UNROLL
    for (int q = 0; q < Q; ++q)
      DSV2_UNROLL
      for (int v = 0; v < V; ++v) store<V>(a.y + (q0 + q) * a.ldy + c0 + 8 * v, v, m, acc[q][v]);
  }
};

// lane_exp (query_lanes.cpp), 8 lanes: the same operations in the same order.
inline __m256 exp8(__m256 x) {
  using namespace lane_exp_consts;
  const __m256 keep = _mm256_cmp_ps(x, _mm256_set1_ps(kExpMin), _CMP_NLT_UQ);  // NaN kept
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Lo), _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Hi), x));
  __m256 p = _mm256_set1_ps(kC[0]);
  DSV2_UNROLL
  for (std::size_t i = 1; i < std::size(kC); ++i) p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kC[i]));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  // The and after the multiply also keeps the compiler from fusing it into the caller's sum.
  return _mm256_and_ps(_mm256_mul_ps(p, _mm256_castsi256_ps(e)), keep);
}

}  // namespace

void lane_dots(const LaneDotsArgs& a) { lane_dots_tiled<Dots>(a); }
void lane_sums(const LaneSumsArgs& a) { lane_sums_tiled<Sums>(a); }

void lane_softmax(const LaneSoftmaxArgs& a) {
  const __m256 scale = _mm256_set1_ps(a.scale);
  for (std::int64_t q0 = 0; q0 < a.nq; q0 += 8) {
    const __m256i m = first(a.nq - q0);
    float* x = a.x + q0;
    __m256 mx = _mm256_setzero_ps();
    for (std::int64_t r = 0; r < a.nr; ++r) {
      const __m256 v = _mm256_mul_ps(scale, _mm256_maskload_ps(x + r * a.ldx, m));
      _mm256_maskstore_ps(x + r * a.ldx, m, v);
      mx = r == 0 ? v : _mm256_max_ps(v, mx);
    }
    __m256 sum = _mm256_setzero_ps();
    for (std::int64_t r = 0; r < a.nr; ++r) {
      const __m256 e = exp8(_mm256_sub_ps(_mm256_maskload_ps(x + r * a.ldx, m), mx));
      _mm256_maskstore_ps(x + r * a.ldx, m, e);
      sum = _mm256_add_ps(sum, e);
    }
    const __m256 inv = _mm256_div_ps(_mm256_set1_ps(1.0f), sum);
    for (std::int64_t r = 0; r < a.nr; ++r)
      _mm256_maskstore_ps(x + r * a.ldx, m, _mm256_mul_ps(_mm256_maskload_ps(x + r * a.ldx, m), inv));
  }
}

}  // namespace dsv2::kernels::avx2
