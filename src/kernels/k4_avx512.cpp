// AVX-512 kernels for Q4_K and Q5_K (same scale layout; Q5_K adds a fifth bit from qh) against
// Q8_K activations. Per 64 values: vpmaddubsw (unsigned q x signed x -> int16 pairs, no
// saturation since q <= 31) then vpdpwssd with the sub-block scales, so the scale multiply is
// fused into the widening add. The mins meet the activations' per-16 sums once per super-block.
#include "kernels/avx512_util.h"
#include "kernels/isa_impl.h"
#include "kernels/tile.h"

namespace dsv2::kernels::avx512 {

namespace {

template <class Block, bool kFifthBit>
struct K4Kernel {
  // Four weight rows per tile: decode (one activation row) then has four independent chains and
  // loads each activation vector once for four rows. Against two rows, Zen 5, 2 threads, 96
  // distinct 1408 x 2048 matrices: Q4_K 28-30 -> 34-38 GB/s, Q6_K 29-32 -> 41-43; 64-row
  // prefill-shaped products unchanged; Lite Q4_K decode 17.4-18.1 -> 21.9-22.6 t/s.
  static constexpr int kW = 4, kX = 4;

  // Values 64k .. 64k + 63 of a super-block (sub-blocks 2k, 2k + 1) as unsigned bytes.
  static __m512i values(const Block& b, int k) {
    const __m512i z = _mm512_loadu_si512(b.qs + 64 * (k / 2));
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    const __m512i lo = _mm512_and_si512(z, m4), hi = _mm512_and_si512(_mm512_srli_epi16(z, 4), m4);
    // lo = [sub 4h, sub 4h+2], hi = [sub 4h+1, sub 4h+3] in 256-bit halves; pair them up.
    __m512i q = (k & 1) ? _mm512_shuffle_i64x2(lo, hi, 0xEE) : _mm512_shuffle_i64x2(lo, hi, 0x44);
    if constexpr (kFifthBit) {
      const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qh)));
      const __m512i sel = _mm512_inserti64x4(_mm512_set1_epi8(static_cast<char>(1 << (2 * k))),
                                             _mm256_set1_epi8(static_cast<char>(1 << (2 * k + 1))), 1);
      q = _mm512_mask_add_epi8(q, _mm512_test_epi8_mask(qh, sel), q, _mm512_set1_epi8(16));
    }
    return q;
  }

  template <int W, int X>
  static void micro(const GemmArgs& a, std::int64_t i0, std::int64_t j0) {
    const std::int64_t nb = a.n / kQKK;
    const Block* w[W];
    const BlockQ8K* x[X];
    DSV2_UNROLL
    for (int r = 0; r < W; ++r) w[r] = reinterpret_cast<const Block*>(a.w + (i0 + r) * a.w_stride);
    DSV2_UNROLL
    for (int c = 0; c < X; ++c) x[c] = reinterpret_cast<const BlockQ8K*>(a.x + (j0 + c) * a.x_stride);
    __m512 acc[W][X];
    DSV2_UNROLL
    for (int r = 0; r < W; ++r)
      DSV2_UNROLL
      for (int c = 0; c < X; ++c) acc[r][c] = _mm512_setzero_ps();
    const PrefetchDistances pf = prefetch_distances(DType::Q4_K);  // a copy: stays in registers
    for (std::int64_t b = 0; b < nb; ++b) {
      DSV2_UNROLL
      for (int r = 0; r < W; ++r) prefetch_ahead(&w[r][b], pf);
      __m512i sc[W], mins[W];
      DSV2_UNROLL
      for (int r = 0; r < W; ++r) {
        std::uint64_t s8, m8;
        unpack_scales_k4_u64(w[r][b].scales, &s8, &m8);
        sc[r] = _mm512_cvtepu8_epi16(_mm256_zextsi128_si256(_mm_cvtsi64_si128(static_cast<long long>(s8))));
        // [m0, m0, m1, m1, ...]: each min meets the two 16-value sums of its sub-block
        const __m128i m16 = _mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<long long>(m8)));
        mins[r] = _mm512_zextsi256_si512(
            _mm256_set_m128i(_mm_unpackhi_epi16(m16, m16), _mm_unpacklo_epi16(m16, m16)));
      }
      __m512i isum[W][X];
      DSV2_UNROLL
      for (int r = 0; r < W; ++r)
        DSV2_UNROLL
        for (int c = 0; c < X; ++c) isum[r][c] = _mm512_setzero_si512();
      DSV2_UNROLL
      for (int k = 0; k < 4; ++k) {
        // int16 lanes 0-15 take sub-block 2k's scale, 16-31 sub-block 2k+1's
        const __m512i idx = _mm512_inserti64x4(_mm512_set1_epi16(static_cast<short>(2 * k)),
                                               _mm256_set1_epi16(static_cast<short>(2 * k + 1)), 1);
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
      for (int c = 0; c < X; ++c) {
        const __m512i bsums = _mm512_zextsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[c][b].bsums)));
        DSV2_UNROLL
        for (int r = 0; r < W; ++r) {
          const float dx = x[c][b].d;
          const __m512i msum = _mm512_madd_epi16(bsums, mins[r]);
          acc[r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[r][c]), _mm512_set1_ps(dx * f16(w[r][b].d)), acc[r][c]);
          acc[r][c] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(msum), _mm512_set1_ps(dx * f16(w[r][b].dmin)), acc[r][c]);
        }
      }
    }
    store_tile<W, X>(a, i0, j0, acc);
  }
};

}  // namespace

void gemm_q4_k(const GemmArgs& args) { gemm_tiled<K4Kernel<BlockQ4K, false>>(args); }
void gemm_q5_k(const GemmArgs& args) { gemm_tiled<K4Kernel<BlockQ5K, true>>(args); }

}  // namespace dsv2::kernels::avx512
