// AVX-512 VNNI kernel for Q8_0 weights x Q16_0 activations, two blocks at a time: values 0-15 of
// blocks b and b+1 share one vector of 32 int16 (vpmaddwd), values 16-31 a second (vpdpwssd into
// the same lanes), so lanes 0-7 sum block b and lanes 8-15 block b+1, and one int -> float
// conversion and scaling serves both blocks. A lane sums 4 products |w x| <= 128 * 32767: no
// overflow.
#include "kernels/avx512_util.h"
#include "kernels/isa_impl.h"
#include "kernels/prefetch.h"
#include "kernels/tile.h"

namespace dsv2::kernels::avx512 {

namespace {

// 16 int8 from a and 16 from b, sign-extended to 32 int16.
inline __m512i widen_2x16(const std::int8_t* a, const std::int8_t* b) {
  const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a));
  const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b));
  return _mm512_cvtepi8_epi16(_mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1));
}

struct Q8_0Kernel {
  static constexpr int kW = 4, kX = 4;
  static constexpr std::int64_t kPrefetchTiles = 2;

  template <int W, int X>
  static void micro(const GemmArgs& a, std::int64_t i0, std::int64_t j0) {
    const std::int64_t nb = a.n / kQK;
    const BlockQ8_0* w[W];
    ActQ16_0Row x[X];
    DSV2_UNROLL
    for (int r = 0; r < W; ++r) w[r] = reinterpret_cast<const BlockQ8_0*>(a.w + (i0 + r) * a.w_stride);
    DSV2_UNROLL
    for (int c = 0; c < X; ++c) x[c] = act_q16_0_row(a.x + (j0 + c) * a.x_stride, a.n);
    __m512 acc[W][X];
    DSV2_UNROLL
    for (int r = 0; r < W; ++r)
      DSV2_UNROLL
      for (int c = 0; c < X; ++c) acc[r][c] = _mm512_setzero_ps();
    for (std::int64_t b = 0; b < nb; b += 2) {
      // An odd last block pairs with itself; a zero activation scale for the copy cancels it.
      const std::int64_t b1 = b + 1 < nb ? b + 1 : b;
      __m512i xlo[X], xhi[X];
      __m512 xd[X];
      DSV2_UNROLL
      for (int c = 0; c < X; ++c) {
        const std::int16_t* p = x[c].qs + b * kQK;
        const std::int16_t* q = x[c].qs + b1 * kQK;
        xlo[c] = load2x256(p, q);
        xhi[c] = load2x256(p + 16, q + 16);
        xd[c] = splat2(x[c].d[b], b1 != b ? x[c].d[b1] : 0.0f);
      }
      DSV2_UNROLL
      for (int r = 0; r < W; ++r) {
        // Rows are short (~1 KB), too short for the hardware prefetcher to ramp up on each:
        // fetch the rows two tiles ahead while this tile computes.
        prefetch_l1(reinterpret_cast<const char*>(&w[r][b]) + kPrefetchTiles * kW * a.w_stride);
        const BlockQ8_0& lo = w[r][b];
        const BlockQ8_0& hi = w[r][b1];
        const __m512i wlo = widen_2x16(lo.qs, hi.qs);
        const __m512i whi = widen_2x16(lo.qs + 16, hi.qs + 16);
        const __m512 wd = splat2_f16(lo.d, hi.d);
        DSV2_UNROLL
        for (int c = 0; c < X; ++c) {
          const __m512i s = _mm512_dpwssd_epi32(_mm512_madd_epi16(wlo, xlo[c]), whi, xhi[c]);
          acc[r][c] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(s), xd[c]), wd, acc[r][c]);
        }
      }
    }
    store_tile<W, X>(a, i0, j0, acc);
  }
};

}  // namespace

void gemm_q8_0(const GemmArgs& args) { gemm_tiled<Q8_0Kernel>(args); }

}  // namespace dsv2::kernels::avx512
