// AVX2 kernels for Q4_K and Q5_K against Q8_K activations: per 32-value sub-block, vpmaddubsw
// then vpmaddwd with the sub-block's scale (the multiply rides on the widening add); the mins
// meet the activations' per-16 sums once per super-block.
#include <immintrin.h>

#include "kernels/avx2_util.h"
#include "kernels/isa_impl.h"
#include "kernels/tile.h"

namespace dsv2::kernels::avx2 {

namespace {

template <class Block, bool kFifthBit>
struct K4Kernel {
  static constexpr int kW = 2, kX = 2;

  // Sub-block j (values 32j .. 32j + 31) as unsigned bytes.
  static __m256i values(const Block& b, int j) {
    const __m256i z = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs + 32 * (j / 2)));
    const __m256i shifted = (j & 1) ? _mm256_srli_epi16(z, 4) : z;
    __m256i q = _mm256_and_si256(shifted, _mm256_set1_epi8(0x0F));
    if constexpr (kFifthBit) {
      const __m256i bit = _mm256_set1_epi8(static_cast<char>(1 << j));
      const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qh));
      const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(qh, bit), bit);
      q = _mm256_or_si256(q, _mm256_and_si256(set, _mm256_set1_epi8(16)));
    }
    return q;
  }

  template <int W, int X>
  static void micro(const GemmArgs& a, std::int64_t i0, std::int64_t j0) {
    const Block* w[W];
    const BlockQ8K* x[X];
    DSV2_UNROLL
    for (int r = 0; r < W; ++r) w[r] = reinterpret_cast<const Block*>(a.w + (i0 + r) * a.w_stride);
    DSV2_UNROLL
    for (int c = 0; c < X; ++c) x[c] = reinterpret_cast<const BlockQ8K*>(a.x + (j0 + c) * a.x_stride);
    __m256 acc[W][X];
    DSV2_UNROLL
    for (int r = 0; r < W; ++r)
      DSV2_UNROLL
      for (int c = 0; c < X; ++c) acc[r][c] = _mm256_setzero_ps();
    const PrefetchDistances pf = prefetch_distances(DType::Q4_K);  // a copy: stays in registers
    for (std::int64_t b = 0; b < a.n / kQKK; ++b) {
      DSV2_UNROLL
      for (int r = 0; r < W; ++r) prefetch_ahead(&w[r][b], pf);
      std::uint8_t sc[W][8], m[W][8];
      __m256i mins[W];
      DSV2_UNROLL
      for (int r = 0; r < W; ++r) {
        std::uint64_t s8, m8;
        unpack_scales_k4_u64(w[r][b].scales, &s8, &m8);
        std::memcpy(sc[r], &s8, 8);
        std::memcpy(m[r], &m8, 8);
        const __m128i m16 = _mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<long long>(m8)));
        mins[r] = _mm256_set_m128i(_mm_unpackhi_epi16(m16, m16), _mm_unpacklo_epi16(m16, m16));
      }
      __m256i isum[W][X];
      DSV2_UNROLL
      for (int r = 0; r < W; ++r)
        DSV2_UNROLL
        for (int c = 0; c < X; ++c) isum[r][c] = _mm256_setzero_si256();
      for (int j = 0; j < 8; ++j) {
        __m256i q[W], s[W];
        DSV2_UNROLL
        for (int r = 0; r < W; ++r) {
          q[r] = values(w[r][b], j);
          s[r] = _mm256_set1_epi16(sc[r][j]);
        }
        DSV2_UNROLL
        for (int c = 0; c < X; ++c) {
          const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[c][b].qs + 32 * j));
          DSV2_UNROLL
          for (int r = 0; r < W; ++r)
            isum[r][c] = _mm256_add_epi32(isum[r][c], _mm256_madd_epi16(_mm256_maddubs_epi16(q[r], xv), s[r]));
        }
      }
      DSV2_UNROLL
      for (int c = 0; c < X; ++c) {
        const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[c][b].bsums));
        DSV2_UNROLL
        for (int r = 0; r < W; ++r) {
          const float dx = x[c][b].d;
          const __m256i msum = _mm256_madd_epi16(bsums, mins[r]);
          acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[r][c]), _mm256_set1_ps(dx * f16(w[r][b].d)), acc[r][c]);
          acc[r][c] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(msum), _mm256_set1_ps(dx * f16(w[r][b].dmin)), acc[r][c]);
        }
      }
    }
    store_tile<W, X>(a, i0, j0, acc);
  }
};

}  // namespace

void gemm_q4_k(const GemmArgs& args) { gemm_tiled<K4Kernel<BlockQ4K, false>>(args); }
void gemm_q5_k(const GemmArgs& args) { gemm_tiled<K4Kernel<BlockQ5K, true>>(args); }

}  // namespace dsv2::kernels::avx2
