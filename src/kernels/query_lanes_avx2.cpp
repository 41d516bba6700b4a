// AVX2 + FMA query-lane kernels and silu_mul (kernels.h; the code is query_lanes_impl.h): 8 lanes,
// partial vectors through vmaskmovps. Bit-identical to the scalar reference (query_lanes.cpp).
#include <immintrin.h>

#include "kernels/isa_impl.h"
#include "kernels/query_lanes_impl.h"

namespace dsv2::kernels::avx2 {

namespace {

struct Simd {
  static constexpr int kLanes = 8;
  // 16 registers: 12 accumulators (dots 3 rows x 2 query vectors x 2 chains, sums 6 queries x
  // 2 column vectors), the loaded vectors and a broadcast; 256 rows of 2 column vectors are 16 KB.
  static constexpr int kDotRows = 3, kDotVectors = 2, kSumQueries = 6, kSumVectors = 2, kSumRowChunk = 256;
  using V = __m256;
  using M = __m256i;
  static M first(std::int64_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n < 8 ? n : 8)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V load(const float* p, M m) { return _mm256_maskload_ps(p, m); }
  static void store(float* p, V x) { _mm256_storeu_ps(p, x); }
  static void store(float* p, M m, V x) { _mm256_maskstore_ps(p, m, x); }
  static V broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static V set1(float x) { return _mm256_set1_ps(x); }
  static V fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V fnmadd(V a, V b, V c) { return _mm256_fnmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V div(V a, V b) { return _mm256_div_ps(a, b); }
  static V max(V a, V b) { return _mm256_max_ps(a, b); }
  static V round(V x) { return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static V pow2(V n) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23));
  }
  static V neg_abs(V x) { return _mm256_or_ps(x, _mm256_set1_ps(-0.0f)); }
  static V select_nonneg(V x, V a, V b) { return _mm256_blendv_ps(b, a, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ)); }
  // The and also keeps the compiler from fusing y's product into the caller's sum.
  static V zero_below(V x, float lo, V y) { return _mm256_and_ps(y, _mm256_cmp_ps(x, _mm256_set1_ps(lo), _CMP_NLT_UQ)); }
};

}  // namespace

void lane_dots(const LaneDotsArgs& a) { lane_dots_simd<Simd>(a); }
void lane_softmax(const LaneSoftmaxArgs& a) { lane_softmax_simd<Simd>(a); }
void lane_sums(const LaneSumsArgs& a) { lane_sums_simd<Simd>(a); }
void silu_mul(float* gate, const float* up, std::int64_t n) { silu_mul_simd<Simd>(gate, up, n); }

}  // namespace dsv2::kernels::avx2
