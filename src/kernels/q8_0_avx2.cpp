// AVX2 kernel for Q8_0 weights x Q8_0 activations: vpmaddubsw needs one unsigned operand, so
// |w| meets x with w's sign moved onto it (|w| <= 128, |x| <= 127: the int16 pairs cannot
// saturate).
#include <immintrin.h>

#include "kernels/avx2_util.h"
#include "kernels/isa_impl.h"
#include "kernels/tile.h"

namespace dsv2::kernels::avx2 {

namespace {

struct Q8_0Kernel {
  static constexpr int kW = 2, kX = 4;
  template <int W, int X>
  static void micro(const GemmArgs& a, std::int64_t i0, std::int64_t j0) {
    const BlockQ8_0* w[W];
    ActQ8_0Row x[X];
    for (int r = 0; r < W; ++r) w[r] = reinterpret_cast<const BlockQ8_0*>(a.w + (i0 + r) * a.w_stride);
    for (int c = 0; c < X; ++c) x[c] = act_q8_0_row(a.x + (j0 + c) * a.x_stride, a.n);
    __m256 acc[W][X];
    for (int r = 0; r < W; ++r)
      for (int c = 0; c < X; ++c) acc[r][c] = _mm256_setzero_ps();
    for (std::int64_t b = 0; b < a.n / kQK; ++b) {
      __m256i xq[X];
      for (int c = 0; c < X; ++c) xq[c] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[c].qs + b * kQK));
      for (int r = 0; r < W; ++r) {
        const __m256i wq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[r][b].qs));
        const __m256i wabs = _mm256_sign_epi8(wq, wq);
        const float wd = f16(w[r][b].d);
        for (int c = 0; c < X; ++c) {
          const __m256i s = dot_u8i8(wabs, _mm256_sign_epi8(xq[c], wq));
          acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(wd * x[c].d[b]), acc[r][c]);
        }
      }
    }
    for (int r = 0; r < W; ++r)
      for (int c = 0; c < X; ++c) a.y[(j0 + c) * a.ldy + i0 + r] = hsum(acc[r][c]);
  }
};

}  // namespace

void gemm_q8_0(const GemmArgs& args) { gemm_tiled<Q8_0Kernel>(args); }

}  // namespace dsv2::kernels::avx2
