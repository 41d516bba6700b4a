// AVX2 kernels for the 32-value nibble formats (Q4_0, Q5_0, Q5_1) x Q8_0 activations: values are
// unsigned bytes for vpmaddubsw (Q5's fifth bits spread from qh by bits_to_16s). Q4_0's "- 8"
// and Q5_0's "- 16" are -8 / -16 * (activation block sum) added to lane 0 of the block's int32
// sums; Q5_1's min adds m_w * d_x * (activation block sum) to lane 0 in float.
#include <immintrin.h>

#include <cstring>
#include <type_traits>

#include "kernels/avx2_util.h"
#include "kernels/isa_impl.h"
#include "kernels/tile.h"

namespace dsv2::kernels::avx2 {

namespace {

template <class Block>
struct NibbleKernel {
  static constexpr bool kFive = !std::is_same_v<Block, BlockQ4_0>;
  static constexpr bool kMin = std::is_same_v<Block, BlockQ5_1>;
  static constexpr int kOffset = kMin ? 0 : kFive ? 16 : 8;
  static constexpr int kW = 2, kX = 4;
  template <int W, int X>
  static void micro(const GemmArgs& a, std::int64_t i0, std::int64_t j0) {
    const Block* w[W];
    ActQ8_0Row x[X];
    DSV2_UNROLL
    for (int r = 0; r < W; ++r) w[r] = reinterpret_cast<const Block*>(a.w + (i0 + r) * a.w_stride);
    DSV2_UNROLL
    for (int c = 0; c < X; ++c) x[c] = act_q8_0_row(a.x + (j0 + c) * a.x_stride, a.n);
    __m256 acc[W][X];
    DSV2_UNROLL
    for (int r = 0; r < W; ++r)
      DSV2_UNROLL
      for (int c = 0; c < X; ++c) acc[r][c] = _mm256_setzero_ps();
    const __m128i m4 = _mm_set1_epi8(0x0F);
    for (std::int64_t b = 0; b < a.n / kQK; ++b) {
      __m256i xq[X], seed[X];
      DSV2_UNROLL
      for (int c = 0; c < X; ++c) {
        xq[c] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[c].qs + b * kQK));
        seed[c] = _mm256_zextsi128_si256(_mm_cvtsi32_si128(-kOffset * x[c].sum[b]));
      }
      DSV2_UNROLL
      for (int r = 0; r < W; ++r) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w[r][b].qs));
        __m256i wq = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(v, 4), m4), _mm_and_si128(v, m4));
        if constexpr (kFive) {
          std::uint32_t qh;
          std::memcpy(&qh, w[r][b].qh, 4);
          wq = _mm256_or_si256(wq, bits_to_16s(qh));
        }
        const float wd = f16(w[r][b].d);
        DSV2_UNROLL
        for (int c = 0; c < X; ++c) {
          const __m256i s = _mm256_add_epi32(dot_u8i8(wq, xq[c]), seed[c]);
          acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(wd * x[c].d[b]), acc[r][c]);
          if constexpr (kMin) {
            const __m256 sum = _mm256_zextps128_ps256(_mm_set_ss(static_cast<float>(x[c].sum[b])));
            acc[r][c] = _mm256_fmadd_ps(sum, _mm256_set1_ps(f16(w[r][b].m) * x[c].d[b]), acc[r][c]);
          }
        }
      }
    }
    store_tile<W, X>(a, i0, j0, acc);
  }
};

}  // namespace

void gemm_q4_0(const GemmArgs& args) { gemm_tiled<NibbleKernel<BlockQ4_0>>(args); }
void gemm_q5_0(const GemmArgs& args) { gemm_tiled<NibbleKernel<BlockQ5_0>>(args); }
void gemm_q5_1(const GemmArgs& args) { gemm_tiled<NibbleKernel<BlockQ5_1>>(args); }

}  // namespace dsv2::kernels::avx2
