// AVX-512 VNNI kernel for Q8_0 weights x Q8_0 activations. vpdpbusd multiplies unsigned by
// signed bytes, so activations are biased by +128 (x ^ 0x80) and the bias times the weight sum,
// which depends on the weights only, seeds the accumulator: one vpdpbusd per pair of blocks per
// (weight row, activation row).
#include "kernels/avx512_util.h"
#include "kernels/isa_impl.h"
#include "kernels/tile.h"

namespace dsv2::kernels::avx512 {

namespace {

struct Q8_0Kernel {
  static constexpr int kW = 4, kX = 4;
  static constexpr std::int64_t kPrefetchTiles = 2;

  template <int W, int X>
  static void micro(const GemmArgs& a, std::int64_t i0, std::int64_t j0) {
    const std::int64_t nb = a.n / kQK;
    const BlockQ8_0* w[W];
    ActQ8_0Row x[X];
    for (int r = 0; r < W; ++r) w[r] = reinterpret_cast<const BlockQ8_0*>(a.w + (i0 + r) * a.w_stride);
    for (int c = 0; c < X; ++c) x[c] = act_q8_0_row(a.x + (j0 + c) * a.x_stride, a.n);
    __m512 acc[W][X];
    for (int r = 0; r < W; ++r)
      for (int c = 0; c < X; ++c) acc[r][c] = _mm512_setzero_ps();
    const __m512i bias = _mm512_set1_epi8(static_cast<char>(0x80));
    for (std::int64_t b = 0; b < nb; b += 2) {
      const bool pair = b + 1 < nb;  // an odd last block pairs with zeros
      __m512i xq[X];
      __m512 xd[X];
      for (int c = 0; c < X; ++c) {
        const __m512i v = pair ? _mm512_loadu_si512(x[c].qs + b * kQK)
                               : _mm512_zextsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[c].qs + b * kQK)));
        xq[c] = _mm512_xor_si512(v, bias);
        xd[c] = splat2(x[c].d[b], pair ? x[c].d[b + 1] : 0.0f);
      }
      for (int r = 0; r < W; ++r) {
        // Rows are short (~1 KB), too short for the hardware prefetcher to ramp up on each:
        // fetch the rows two tiles ahead while this tile computes.
        _mm_prefetch(reinterpret_cast<const char*>(&w[r][b]) + kPrefetchTiles * kW * a.w_stride, _MM_HINT_T0);
        const BlockQ8_0& lo = w[r][b];
        const BlockQ8_0& hi = pair ? w[r][b + 1] : w[r][b];
        __m512i wq = load2x256(lo.qs, hi.qs);
        if (!pair) wq = _mm512_zextsi256_si512(_mm512_castsi512_si256(wq));
        // seed = -128 * (sum of the 4 weights feeding each lane)
        const __m512i seed = _mm512_sub_epi32(_mm512_setzero_si512(),
                                              _mm512_dpbusd_epi32(_mm512_setzero_si512(), bias, wq));
        const __m512 wd = splat2_f16(lo.d, hi.d);
        for (int c = 0; c < X; ++c) {
          const __m512i s = _mm512_dpbusd_epi32(seed, xq[c], wq);
          acc[r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(wd, xd[c]), acc[r][c]);
        }
      }
    }
    for (int r = 0; r < W; ++r)
      for (int c = 0; c < X; ++c) a.y[(j0 + c) * a.ldy + i0 + r] = _mm512_reduce_add_ps(acc[r][c]);
  }
};

}  // namespace

void gemm_q8_0(const GemmArgs& args) { gemm_tiled<Q8_0Kernel>(args); }

}  // namespace dsv2::kernels::avx512
