// AVX2 + FMA kernels for float weights: F32, F16 (vcvtph2ps) and BF16 (widened by a 16-bit
// shift), all against f32 activations as the reference computes.
#include <immintrin.h>

#include "kernels/avx2_util.h"
#include "kernels/isa_impl.h"
#include "kernels/prefetch.h"
#include "kernels/tile.h"

namespace dsv2::kernels::avx2 {

namespace {

// Each Load reads 8 values of a row starting at element i as floats; scalar() reads one (tails).
struct F32Load {
  static constexpr int kBytes = 4;
  static __m256 load(const std::uint8_t* p, std::int64_t i) { return _mm256_loadu_ps(reinterpret_cast<const float*>(p) + i); }
  static float scalar(const std::uint8_t* p, std::int64_t i) { return reinterpret_cast<const float*>(p)[i]; }
};
struct F16Load {
  static constexpr int kBytes = 2;
  static __m256 load(const std::uint8_t* p, std::int64_t i) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(reinterpret_cast<const std::uint16_t*>(p) + i)));
  }
  static float scalar(const std::uint8_t* p, std::int64_t i) { return f16(reinterpret_cast<const std::uint16_t*>(p)[i]); }
};
struct Bf16Load {
  static constexpr int kBytes = 2;
  static __m256 load(const std::uint8_t* p, std::int64_t i) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(reinterpret_cast<const std::uint16_t*>(p) + i));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
  static float scalar(const std::uint8_t* p, std::int64_t i) { return bf16_to_f32(reinterpret_cast<const std::uint16_t*>(p)[i]); }
};

// Prefetches the next tile's rows as it goes: rows are separate streams that the hardware
// prefetchers ramp up on too slowly (as float_avx512.cpp).
template <class WL, class XL>
struct FloatKernel {
  static constexpr int kW = 2, kX = 4;
  template <int W, int X>
  static void micro(const GemmArgs& a, std::int64_t i0, std::int64_t j0) {
    __m256 acc[W][X];
    DSV2_UNROLL
    for (int r = 0; r < W; ++r)
      DSV2_UNROLL
      for (int c = 0; c < X; ++c) acc[r][c] = _mm256_setzero_ps();
    const std::uint8_t* w[W];
    const std::uint8_t* x[X];
    DSV2_UNROLL
    for (int r = 0; r < W; ++r) w[r] = a.w + (i0 + r) * a.w_stride;
    DSV2_UNROLL
    for (int c = 0; c < X; ++c) x[c] = a.x + (j0 + c) * a.x_stride;
    std::int64_t i = 0;
    for (; i + 8 <= a.n; i += 8) {
      __m256 xv[X];
      DSV2_UNROLL
      for (int c = 0; c < X; ++c) xv[c] = XL::load(x[c], i);
      DSV2_UNROLL
      for (int r = 0; r < W; ++r) {
        if (i * WL::kBytes % 64 == 0) prefetch_l1(reinterpret_cast<const char*>(w[r] + W * a.w_stride + i * WL::kBytes));
        const __m256 wv = WL::load(w[r], i);
        DSV2_UNROLL
        for (int c = 0; c < X; ++c) acc[r][c] = _mm256_fmadd_ps(wv, xv[c], acc[r][c]);
      }
    }
    DSV2_UNROLL
    for (int r = 0; r < W; ++r) {
      DSV2_UNROLL
      for (int c = 0; c < X; ++c) {
        float s = hsum(acc[r][c]);
        for (std::int64_t t = i; t < a.n; ++t) s += WL::scalar(w[r], t) * XL::scalar(x[c], t);
        a.y[(j0 + c) * a.ldy + i0 + r] = s;
      }
    }
  }
};

}  // namespace

void gemm_f32(const GemmArgs& args) { gemm_tiled<FloatKernel<F32Load, F32Load>>(args); }
void gemm_f16(const GemmArgs& args) { gemm_tiled<FloatKernel<F16Load, F32Load>>(args); }
void gemm_bf16(const GemmArgs& args) { gemm_tiled<FloatKernel<Bf16Load, F32Load>>(args); }

}  // namespace dsv2::kernels::avx2
