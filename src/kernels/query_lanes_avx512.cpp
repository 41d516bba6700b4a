// AVX-512 query-lane kernels (kernels.h): lane q of a vector is query q, so a row value is
// broadcast (an embedded-broadcast fma operand) and meets 16 queries in one instruction, and no
// output needs a horizontal sum. Each lane computes the scalar reference's fma chain
// (query_lanes.cpp), so results are bit-identical to it.
#include "kernels/avx512_util.h"
#include "kernels/isa_impl.h"
#include "kernels/query_lanes_impl.h"

namespace dsv2::kernels::avx512 {

namespace {

inline __mmask16 first(std::int64_t n) { return n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1); }

// Vector v of a tile with V vectors: full, or the first `tail` lanes (zero-filled) for the last.
template <int V>
inline __m512 load(const float* p, int v, __mmask16 tail) {
  return v + 1 < V ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(tail, p);
}
template <int V>
inline void store(float* p, int v, __mmask16 tail, __m512 x) {
  if (v + 1 < V) _mm512_storeu_ps(p, x);
  else _mm512_mask_storeu_ps(p, tail, x);
}

// R rows x V vectors of 16 queries: per element d, V query loads feed R * V fmas.
struct Dots {
  static constexpr int kLanes = 16, kA = 12, kB = 2;
  template <int R, int V>
  static void tile(const LaneDotsArgs& a, std::int64_t r0, std::int64_t q0, std::int64_t tail) {
    const __mmask16 m = first(tail);
    __m512 acc[R][V];
    DSV2_UNROLL
    for (int r = 0; r < R; ++r)
      DSV2_UNROLL
      for (int v = 0; v < V; ++v) acc[r][v] = _mm512_setzero_ps();
    const float* row[R];  // one base register per row: the broadcasts need no address arithmetic
    DSV2_UNROLL
    for (int r = 0; r < R; ++r) row[r] = a.rows + (r0 + r) * a.ldr;
    const float* qt = a.qt + q0;
    for (std::int64_t d = 0, n = a.n; d < n; ++d, qt += a.ldq) {
      __m512 q[V];
      DSV2_UNROLL
      for (int v = 0; v < V; ++v) q[v] = load<V>(qt + 16 * v, v, m);
      DSV2_UNROLL
      for (int r = 0; r < R; ++r) {
        const __m512 c = _mm512_set1_ps(row[r][d]);
        DSV2_UNROLL
        for (int v = 0; v < V; ++v) acc[r][v] = _mm512_fmadd_ps(c, q[v], acc[r][v]);
      }
    }
    DSV2_UNROLL
    for (int r = 0; r < R; ++r)
      DSV2_UNROLL
      for (int v = 0; v < V; ++v) store<V>(a.y + (r0 + r) * a.ldy + q0 + 16 * v, v, m, acc[r][v]);
  }
};

// Q queries x V vectors of 16 columns: per row, V column loads feed Q * V fmas.
struct Sums {
  static constexpr int kLanes = 16, kA = 6, kB = 4, kRowChunk = 128;  // 32 KB of rows
  template <int Q, int V>
  static void tile(const LaneSumsArgs& a, std::int64_t q0, std::int64_t c0, std::int64_t tail, bool resume) {
    const __mmask16 m = first(tail);
    __m512 acc[Q][V];
    DSV2_UNROLL
    for (int q = 0; q < Q; ++q)
      DSV2_UNROLL
      for (int v = 0; v < V; ++v)
        acc[q][v] = resume ? load<V>(a.y + (q0 + q) * a.ldy + c0 + 16 * v, v, m) : _mm512_setzero_ps();
    const float* row = a.rows + c0;
    const float* p = a.p + q0;
    for (std::int64_t r = 0; r < a.nr; ++r, row += a.ldr, p += a.ldp) {
      __m512 c[V];
      DSV2_UNROLL
      for (int v = 0; v < V; ++v) c[v] = load<V>(row + 16 * v, v, m);
      DSV2_UNROLL
      for (int q = 0; q < Q; ++q) {
        const __m512 w = _mm512_set1_ps(p[q]);
        DSV2_UNROLL
        for (int v = 0; v < V; ++v) acc[q][v] = _mm512_fmadd_ps(w, c[v], acc[q][v]);
      }
    }
    DSV2_UNROLL
    for (int q = 0; q < Q; ++q)
      DSV2_UNROLL
      for (int v = 0; v < V; ++v) store<V>(a.y + (q0 + q) * a.ldy + c0 + 16 * v, v, m, acc[q][v]);
  }
};

// lane_exp (query_lanes.cpp), 16 lanes: the same operations in the same order.
inline __m512 exp16(__m512 x) {
  using namespace lane_exp_consts;
  const __mmask16 keep = _mm512_cmp_ps_mask(x, _mm512_set1_ps(kExpMin), _CMP_NLT_UQ);  // NaN kept
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(kLog2e)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Lo), _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Hi), x));
  __m512 p = _mm512_set1_ps(kC[0]);
  DSV2_UNROLL
  for (std::size_t i = 1; i < std::size(kC); ++i) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kC[i]));
  const __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
  return _mm512_maskz_mul_ps(keep, p, _mm512_castsi512_ps(e));
}

}  // namespace

void lane_dots(const LaneDotsArgs& a) { lane_dots_tiled<Dots>(a); }
void lane_sums(const LaneSumsArgs& a) { lane_sums_tiled<Sums>(a); }

void lane_softmax(const LaneSoftmaxArgs& a) {
  const __m512 scale = _mm512_set1_ps(a.scale);
  for (std::int64_t q0 = 0; q0 < a.nq; q0 += 16) {
    const __mmask16 m = first(a.nq - q0);
    float* x = a.x + q0;
    __m512 mx = _mm512_setzero_ps();
    for (std::int64_t r = 0; r < a.nr; ++r) {
      const __m512 v = _mm512_mul_ps(scale, _mm512_maskz_loadu_ps(m, x + r * a.ldx));
      _mm512_mask_storeu_ps(x + r * a.ldx, m, v);
      mx = r == 0 ? v : _mm512_max_ps(v, mx);
    }
    __m512 sum = _mm512_setzero_ps();
    for (std::int64_t r = 0; r < a.nr; ++r) {
      const __m512 e = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + r * a.ldx), mx));
      _mm512_mask_storeu_ps(x + r * a.ldx, m, e);
      sum = _mm512_add_ps(sum, e);
    }
    const __m512 inv = _mm512_div_ps(_mm512_set1_ps(1.0f), sum);
    for (std::int64_t r = 0; r < a.nr; ++r)
      _mm512_mask_storeu_ps(x + r * a.ldx, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + r * a.ldx), inv));
  }
}

}  // namespace dsv2::kernels::avx512
