// AVX-512 kernel for Q6_K weights x Q8_K activations: q in [0, 63] as unsigned bytes through
// vpmaddubsw, vpdpwssd with the int8 sub-block scales, and the "- 32" offset applied once per
// super-block as 32 * sum(scale * activation sum per 16).
#include "kernels/avx512_util.h"
#include "kernels/isa_impl.h"
#include "kernels/tile.h"

namespace dsv2::kernels::avx512 {

namespace {

struct Q6KKernel {
  // Four weight rows per tile, as in k4_avx512.cpp: against two rows, Zen 5, 2 threads, 96
  // distinct 1408 x 2048 matrices, Q6_K 29-32 -> 41-43 GB/s; 64-row products unchanged.
  static constexpr int kW = 4, kX = 4;

  // Values 64k .. 64k + 63 (k in 0..3) of a super-block as unsigned bytes.
  static __m512i values(const BlockQ6K& b, int k) {
    const int h = k / 2;  // which 128-value half
    const __m512i ql = _mm512_loadu_si512(b.ql + 64 * h);
    const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qh + 32 * h)));
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    const __m512i lo = (k & 1) ? _mm512_and_si512(_mm512_srli_epi16(ql, 4), m4) : _mm512_and_si512(ql, m4);
    // the 32-value quarters 2(k&1) and 2(k&1)+1 take qh bits at 4(k&1) and 4(k&1) + 2
    const int s0 = 4 * (k & 1);
    const __m512i shift = _mm512_inserti64x4(_mm512_set1_epi16(static_cast<short>(s0)),
                                             _mm256_set1_epi16(static_cast<short>(s0 + 2)), 1);
    const __m512i hi = _mm512_and_si512(_mm512_srlv_epi16(qh, shift), _mm512_set1_epi8(3));
    return _mm512_or_si512(lo, _mm512_slli_epi16(hi, 4));
  }

  template <int W, int X>
  static void micro(const GemmArgs& a, std::int64_t i0, std::int64_t j0) {
    const std::int64_t nb = a.n / kQKK;
    const BlockQ6K* w[W];
    const BlockQ8K* x[X];
    DSV2_UNROLL
    for (int r = 0; r < W; ++r) w[r] = reinterpret_cast<const BlockQ6K*>(a.w + (i0 + r) * a.w_stride);
    DSV2_UNROLL
    for (int c = 0; c < X; ++c) x[c] = reinterpret_cast<const BlockQ8K*>(a.x + (j0 + c) * a.x_stride);
    __m512 acc[W][X];
    DSV2_UNROLL
    for (int r = 0; r < W; ++r)
      DSV2_UNROLL
      for (int c = 0; c < X; ++c) acc[r][c] = _mm512_setzero_ps();
    // int16 lane l of a 64-value group covers values 2l and 2l + 1: sub-block l / 8 of the group.
    const __m512i kScaleIdx = _mm512_set_epi16(3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1,
                                               1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    const PrefetchDistances pf = prefetch_distances(DType::Q6_K);  // a copy: stays in registers
    for (std::int64_t b = 0; b < nb; ++b) {
      DSV2_UNROLL
      for (int r = 0; r < W; ++r) prefetch_ahead(&w[r][b], pf);
      __m512i sc[W];
      DSV2_UNROLL
      for (int r = 0; r < W; ++r)
        sc[r] = _mm512_cvtepi8_epi16(_mm256_zextsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w[r][b].scales))));
      __m512i isum[W][X];
      DSV2_UNROLL
      for (int c = 0; c < X; ++c) {
        // -32 * sum_k scale_k * bsum_k, the offset of all 256 values
        const __m512i bsums = _mm512_zextsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[c][b].bsums)));
        DSV2_UNROLL
        for (int r = 0; r < W; ++r)
          isum[r][c] = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_slli_epi32(_mm512_madd_epi16(bsums, sc[r]), 5));
      }
      DSV2_UNROLL
      for (int k = 0; k < 4; ++k) {
        const __m512i idx = _mm512_add_epi16(kScaleIdx, _mm512_set1_epi16(static_cast<short>(4 * k)));
        __m512i q[W], s[W];
        DSV2_UNROLL
        for (int r = 0; r < W; ++r) {
          q[r] = values(w[r][b], k);
          s[r] = _mm512_permutexvar_epi16(idx, sc[r]);
        }
        DSV2_UNROLL
        for (int c = 0; c < X; ++c) {
          const __m512i xv = _mm512_loadu_si512(x[c][b].qs + 64 * k);
          DSV2_UNROLL
          for (int r = 0; r < W; ++r)
            isum[r][c] = _mm512_dpwssd_epi32(isum[r][c], _mm512_maddubs_epi16(q[r], xv), s[r]);
        }
      }
      DSV2_UNROLL
      for (int c = 0; c < X; ++c)
        DSV2_UNROLL
        for (int r = 0; r < W; ++r)
          acc[r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[r][c]), _mm512_set1_ps(x[c][b].d * f16(w[r][b].d)), acc[r][c]);
    }
    store_tile<W, X>(a, i0, j0, acc);
  }
};

}  // namespace

void gemm_q6_k(const GemmArgs& args) { gemm_tiled<Q6KKernel>(args); }

}  // namespace dsv2::kernels::avx512
