// AVX-512 kernels for float weights: F32 and F16 (converted with vcvtph2ps) against f32
// activations, BF16 against bf16 activations with vdpbf16ps (two products per lane and step).
#include "kernels/avx512_util.h"
#include "kernels/isa_impl.h"
#include "kernels/tile.h"

namespace dsv2::kernels::avx512 {

namespace {

// Loads 16 weights as floats from element i of row p; tails use a zero-filling masked load.
struct F32W {
  static constexpr int kStep = 16;
  static __m512 load(const std::uint8_t* p, std::int64_t i, __mmask16 m) {
    return _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(p) + i);
  }
};
struct F16W {
  static constexpr int kStep = 16;
  static __m512 load(const std::uint8_t* p, std::int64_t i, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, reinterpret_cast<const std::uint16_t*>(p) + i));
  }
};

// F32 activations with any float-like weight type: acc += w * x, 16 values per step.
template <class WT>
struct FloatKernel {
  static constexpr int kW = 4, kX = 4;
  template <int W, int X>
  static void micro(const GemmArgs& a, std::int64_t i0, std::int64_t j0) {
    __m512 acc[W][X];
    for (int r = 0; r < W; ++r)
      for (int c = 0; c < X; ++c) acc[r][c] = _mm512_setzero_ps();
    for (std::int64_t i = 0; i < a.n; i += 16) {
      const __mmask16 m = a.n - i >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (a.n - i)) - 1);
      __m512 x[X];
      for (int c = 0; c < X; ++c)
        x[c] = _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(a.x + (j0 + c) * a.x_stride) + i);
      for (int r = 0; r < W; ++r) {
        const __m512 w = WT::load(a.w + (i0 + r) * a.w_stride, i, m);
        for (int c = 0; c < X; ++c) acc[r][c] = _mm512_fmadd_ps(w, x[c], acc[r][c]);
      }
    }
    for (int r = 0; r < W; ++r)
      for (int c = 0; c < X; ++c) a.y[(j0 + c) * a.ldy + i0 + r] = _mm512_reduce_add_ps(acc[r][c]);
  }
};

struct Bf16Kernel {
  static constexpr int kW = 4, kX = 4;
  static __m512bh load(const std::uint8_t* p, std::int64_t i, __mmask32 m) {
    return (__m512bh)_mm512_maskz_loadu_epi16(m, reinterpret_cast<const std::uint16_t*>(p) + i);
  }
  template <int W, int X>
  static void micro(const GemmArgs& a, std::int64_t i0, std::int64_t j0) {
    __m512 acc[W][X];
    for (int r = 0; r < W; ++r)
      for (int c = 0; c < X; ++c) acc[r][c] = _mm512_setzero_ps();
    for (std::int64_t i = 0; i < a.n; i += 32) {
      const __mmask32 m = a.n - i >= 32 ? ~__mmask32(0) : __mmask32((1u << (a.n - i)) - 1);
      __m512bh x[X];
      for (int c = 0; c < X; ++c) x[c] = load(a.x + (j0 + c) * a.x_stride, i, m);
      for (int r = 0; r < W; ++r) {
        const __m512bh w = load(a.w + (i0 + r) * a.w_stride, i, m);
        for (int c = 0; c < X; ++c) acc[r][c] = _mm512_dpbf16_ps(acc[r][c], w, x[c]);
      }
    }
    for (int r = 0; r < W; ++r)
      for (int c = 0; c < X; ++c) a.y[(j0 + c) * a.ldy + i0 + r] = _mm512_reduce_add_ps(acc[r][c]);
  }
};

}  // namespace

void gemm_f32(const GemmArgs& args) { gemm_tiled<FloatKernel<F32W>>(args); }
void gemm_f16(const GemmArgs& args) { gemm_tiled<FloatKernel<F16W>>(args); }
void gemm_bf16(const GemmArgs& args) { gemm_tiled<Bf16Kernel>(args); }

}  // namespace dsv2::kernels::avx512
