// AVX2 kernel for Q8_0 weights x Q16_0 activations: each weight block is sign-extended to two
// vectors of 16 int16 once per tile and meets every activation block in two vpmaddwd (int16
// pairs, int32 lanes: |w x| <= 128 * 32767, so a lane's sum cannot overflow).
#include <immintrin.h>

#include "kernels/avx2_util.h"
#include "kernels/isa_impl.h"
#include "kernels/prefetch.h"
#include "kernels/tile.h"

namespace dsv2::kernels::avx2 {

namespace {

struct Q8_0Kernel {
  static constexpr int kW = 2, kX = 4;
  static constexpr std::int64_t kPrefetchTiles = 2;

  template <int W, int X>
  static void micro(const GemmArgs& a, std::int64_t i0, std::int64_t j0) {
    const BlockQ8_0* w[W];
    ActQ16_0Row x[X];
    DSV2_UNROLL
    for (int r = 0; r < W; ++r) w[r] = reinterpret_cast<const BlockQ8_0*>(a.w + (i0 + r) * a.w_stride);
    DSV2_UNROLL
    for (int c = 0; c < X; ++c) x[c] = act_q16_0_row(a.x + (j0 + c) * a.x_stride, a.n);
    __m256 acc[W][X];
    DSV2_UNROLL
    for (int r = 0; r < W; ++r)
      DSV2_UNROLL
      for (int c = 0; c < X; ++c) acc[r][c] = _mm256_setzero_ps();
    for (std::int64_t b = 0; b < a.n / kQK; ++b) {
      __m256i wq[W][2];
      float wd[W];
      DSV2_UNROLL
      for (int r = 0; r < W; ++r) {
        // Rows are short (~1 KB), too short for the hardware prefetcher to ramp up on each:
        // fetch the rows two tiles ahead while this tile computes.
        prefetch_l1(reinterpret_cast<const char*>(&w[r][b]) + kPrefetchTiles * kW * a.w_stride);
        DSV2_UNROLL
        for (int h = 0; h < 2; ++h)
          wq[r][h] = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w[r][b].qs + 16 * h)));
        wd[r] = f16(w[r][b].d);
      }
      DSV2_UNROLL
      for (int c = 0; c < X; ++c) {
        const auto* xq = reinterpret_cast<const __m256i*>(x[c].qs + b * kQK);
        const __m256i x0 = _mm256_loadu_si256(xq), x1 = _mm256_loadu_si256(xq + 1);
        DSV2_UNROLL
        for (int r = 0; r < W; ++r) {
          const __m256i s = _mm256_add_epi32(_mm256_madd_epi16(wq[r][0], x0), _mm256_madd_epi16(wq[r][1], x1));
          acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(wd[r] * x[c].d[b]), acc[r][c]);
        }
      }
    }
    store_tile<W, X>(a, i0, j0, acc);
  }
};

}  // namespace

void gemm_q8_0(const GemmArgs& args) { gemm_tiled<Q8_0Kernel>(args); }

}  // namespace dsv2::kernels::avx2
