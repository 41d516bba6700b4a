// AVX-512 kernels for float weights: F32, F16 (converted with vcvtph2ps) and BF16 (widened by a
// shift) against f32 activations. Activations stay f32 so bf16 checkpoints compute exactly what
// the reference computes (weights upcast, float32 math); vdpbf16ps would round x to bf16.
#include "kernels/avx512_util.h"
#include "kernels/isa_impl.h"
#include "kernels/prefetch.h"
#include "kernels/tile.h"

namespace dsv2::kernels::avx512 {

namespace {

// Loads 16 weights as floats from element i of row p; tails use a zero-filling masked load.
struct F32W {
  static constexpr int kStep = 16, kBytes = 4;
  static __m512 load(const std::uint8_t* p, std::int64_t i, __mmask16 m) {
    return _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(p) + i);
  }
};
struct F16W {
  static constexpr int kStep = 16, kBytes = 2;
  static __m512 load(const std::uint8_t* p, std::int64_t i, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, reinterpret_cast<const std::uint16_t*>(p) + i));
  }
};

// bf16 is the top half of an f32: widen by a 16-bit shift (exact).
struct BF16W {
  static constexpr int kStep = 16, kBytes = 2;
  static __m512 load(const std::uint8_t* p, std::int64_t i, __mmask16 m) {
    const __m256i h = _mm256_maskz_loadu_epi16(m, reinterpret_cast<const std::uint16_t*>(p) + i);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
};

// F32 activations with any float-like weight type: acc += w * x, 16 values per step. Each
// weight row is its own stream, restarted every few KiB (a tile's rows), so the rows of the next
// tile are prefetched as this one goes (past the last tile: prefetches never fault). Decode-shaped
// products (48 distinct 1408 x 2048 matrices, one activation row, 2 threads, Zen 5) read 2x
// faster: bf16 21-23 -> 47-54 GB/s, f16 18-20 -> 44-48, f32 23-26 -> 46-50.
template <class WT>
struct FloatKernel {
  static constexpr int kW = 4, kX = 4;
  template <int W, int X>
  static void micro(const GemmArgs& a, std::int64_t i0, std::int64_t j0) {
    __m512 acc[W][X];
    DSV2_UNROLL
    for (int r = 0; r < W; ++r)
      DSV2_UNROLL
      for (int c = 0; c < X; ++c) acc[r][c] = _mm512_setzero_ps();
    for (std::int64_t i = 0; i < a.n; i += 16) {
      const __mmask16 m = a.n - i >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (a.n - i)) - 1);
      __m512 x[X];
      DSV2_UNROLL
      for (int c = 0; c < X; ++c)
        x[c] = _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(a.x + (j0 + c) * a.x_stride) + i);
      DSV2_UNROLL
      for (int r = 0; r < W; ++r) {
        const std::uint8_t* row = a.w + (i0 + r) * a.w_stride;
        if (i * WT::kBytes % 64 == 0) prefetch_l1(reinterpret_cast<const char*>(row + W * a.w_stride + i * WT::kBytes));
        const __m512 w = WT::load(row, i, m);
        DSV2_UNROLL
        for (int c = 0; c < X; ++c) acc[r][c] = _mm512_fmadd_ps(w, x[c], acc[r][c]);
      }
    }
    store_tile<W, X>(a, i0, j0, acc);
  }
};

}  // namespace

void gemm_f32(const GemmArgs& args) { gemm_tiled<FloatKernel<F32W>>(args); }
void gemm_f16(const GemmArgs& args) { gemm_tiled<FloatKernel<F16W>>(args); }
void gemm_bf16(const GemmArgs& args) { gemm_tiled<FloatKernel<BF16W>>(args); }

}  // namespace dsv2::kernels::avx512
