// AVX2 kernel for Q6_K weights x Q8_K activations: q in [0, 63] through vpmaddubsw, vpmaddwd
// with the int8 sub-block scales, and the "- 32" offset applied once per super-block as
// 32 * sum(scale * activation sum per 16).
#include <immintrin.h>

#include "kernels/avx2_util.h"
#include "kernels/isa_impl.h"
#include "kernels/tile.h"

namespace dsv2::kernels::avx2 {

namespace {

struct Q6KKernel {
  static constexpr int kW = 2, kX = 2;

  // Values 32k .. 32k + 31 (k in 0..7) of a super-block as unsigned bytes.
  static __m256i values(const BlockQ6K& b, int k) {
    const int h = k / 4, quarter = k % 4;
    const __m256i ql = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.ql + 64 * h + 32 * (quarter & 1)));
    const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qh + 32 * h));
    const __m256i lo = _mm256_and_si256(quarter < 2 ? ql : _mm256_srli_epi16(ql, 4), _mm256_set1_epi8(0x0F));
    const __m256i hi = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * quarter)), _mm256_set1_epi8(3));
    return _mm256_or_si256(lo, _mm256_slli_epi16(hi, 4));
  }

  template <int W, int X>
  static void micro(const GemmArgs& a, std::int64_t i0, std::int64_t j0) {
    const BlockQ6K* w[W];
    const BlockQ8K* x[X];
    DSV2_UNROLL
    for (int r = 0; r < W; ++r) w[r] = reinterpret_cast<const BlockQ6K*>(a.w + (i0 + r) * a.w_stride);
    DSV2_UNROLL
    for (int c = 0; c < X; ++c) x[c] = reinterpret_cast<const BlockQ8K*>(a.x + (j0 + c) * a.x_stride);
    __m256 acc[W][X];
    DSV2_UNROLL
    for (int r = 0; r < W; ++r)
      DSV2_UNROLL
      for (int c = 0; c < X; ++c) acc[r][c] = _mm256_setzero_ps();
    const PrefetchDistances pf = prefetch_distances(DType::Q6_K);  // a copy: stays in registers
    for (std::int64_t b = 0; b < a.n / kQKK; ++b) {
      DSV2_UNROLL
      for (int r = 0; r < W; ++r) prefetch_ahead(&w[r][b], pf);
      __m256i sc16[W];
      DSV2_UNROLL
      for (int r = 0; r < W; ++r)
        sc16[r] = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w[r][b].scales)));
      __m256i isum[W][X];
      DSV2_UNROLL
      for (int c = 0; c < X; ++c) {
        const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[c][b].bsums));
        DSV2_UNROLL
        for (int r = 0; r < W; ++r)
          isum[r][c] = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(_mm256_madd_epi16(bsums, sc16[r]), 5));
      }
      for (int k = 0; k < 8; ++k) {
        __m256i q[W], s[W];
        DSV2_UNROLL
        for (int r = 0; r < W; ++r) {
          q[r] = values(w[r][b], k);
          // 128-bit halves hold sub-blocks 2k and 2k + 1
          s[r] = _mm256_set_m128i(_mm_set1_epi16(w[r][b].scales[2 * k + 1]), _mm_set1_epi16(w[r][b].scales[2 * k]));
        }
        DSV2_UNROLL
        for (int c = 0; c < X; ++c) {
          const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[c][b].qs + 32 * k));
          DSV2_UNROLL
          for (int r = 0; r < W; ++r)
            isum[r][c] = _mm256_add_epi32(isum[r][c], _mm256_madd_epi16(_mm256_maddubs_epi16(q[r], xv), s[r]));
        }
      }
      DSV2_UNROLL
      for (int c = 0; c < X; ++c)
        DSV2_UNROLL
        for (int r = 0; r < W; ++r)
          acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[r][c]), _mm256_set1_ps(x[c][b].d * f16(w[r][b].d)), acc[r][c]);
    }
    store_tile<W, X>(a, i0, j0, acc);
  }
};

}  // namespace

void gemm_q6_k(const GemmArgs& args) { gemm_tiled<Q6KKernel>(args); }

}  // namespace dsv2::kernels::avx2
