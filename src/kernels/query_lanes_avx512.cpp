// AVX-512 query-lane kernels and silu_mul (kernels.h; the code is query_lanes_impl.h): 16 lanes,
// partial vectors through mask registers, broadcasts as embedded-broadcast fma operands.
// Bit-identical to the scalar reference (query_lanes.cpp).
#include "kernels/avx512_util.h"
#include "kernels/isa_impl.h"
#include "kernels/query_lanes_impl.h"

namespace dsv2::kernels::avx512 {

namespace {

struct Simd {
  static constexpr int kLanes = 16;
  // 24 of 32 registers hold accumulators: dots 6 rows x 2 query vectors (two rows of Lite's 16
  // heads, mla.cpp) x 2 chains, sums 6 queries x 4 column vectors; 128 rows of 4 column
  // vectors are 32 KB, within L1.
  static constexpr int kDotRows = 6, kDotVectors = 2, kSumQueries = 6, kSumVectors = 4, kSumRowChunk = 128;
  using V = __m512;
  using M = __mmask16;
  static M first(std::int64_t n) { return n >= 16 ? M(0xFFFF) : M((1u << n) - 1); }
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static V load(const float* p, M m) { return _mm512_maskz_loadu_ps(m, p); }
  static void store(float* p, V x) { _mm512_storeu_ps(p, x); }
  static void store(float* p, M m, V x) { _mm512_mask_storeu_ps(p, m, x); }
  static V broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static V set1(float x) { return _mm512_set1_ps(x); }
  static V fmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V fnmadd(V a, V b, V c) { return _mm512_fnmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V sub(V a, V b) { return _mm512_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V div(V a, V b) { return _mm512_div_ps(a, b); }
  static V max(V a, V b) { return _mm512_max_ps(a, b); }
  static V round(V x) { return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static V pow2(V n) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23));
  }
  static V neg_abs(V x) { return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(x), _mm512_set1_epi32(INT32_MIN))); }
  static V select_nonneg(V x, V a, V b) {  // x >= 0 ? a : b (NaN x: b)
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GE_OQ), b, a);
  }
  static V zero_below(V x, float lo, V y) {  // NaN x keeps y (NaN too)
    return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x, _mm512_set1_ps(lo), _CMP_NLT_UQ), y);
  }
};

}  // namespace

void lane_dots(const LaneDotsArgs& a) { lane_dots_simd<Simd>(a); }
void lane_softmax(const LaneSoftmaxArgs& a) { lane_softmax_simd<Simd>(a); }
void lane_sums(const LaneSumsArgs& a) { lane_sums_simd<Simd>(a); }
void silu_mul(float* gate, const float* up, std::int64_t n) { silu_mul_simd<Simd>(gate, up, n); }

}  // namespace dsv2::kernels::avx512
