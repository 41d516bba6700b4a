// AVX2 kernel for Q4_K_R16 and Q5_K_R16 (blocks.h) against Q8_K activations: a 256-bit vector
// holds 8 rows, so each group is computed as two halves of 8 rows. Per sub-block, vpmaddubsw
// products are summed as int16 before vpmaddwd widens them (4-bit values: all 8 pieces, |sum| <=
// 8 * 2 * 15 * 128 = 30720; Q5_K's 5-bit values, their fifth bits spread from the masks by
// bits_to_16s: 4 pieces at a time, <= 4 * 2 * 31 * 128 = 31744); vpmulld applies the rows'
// scales, vpmaddwd the mins. Bit-identical to the scalar reference in interleaved_scalar.cpp.
#include <immintrin.h>

#include <cstring>
#include <type_traits>

#include "kernels/avx2_util.h"
#include "kernels/interleaved_k4_impl.h"
#include "kernels/isa_impl.h"
#include "kernels/tile.h"

namespace dsv2::kernels::avx2 {

namespace {

constexpr int kHalf = kRowGroup / 2;

using Scales = K4Scales<kHalf>;

inline __m256i scale(const Scales& s, int j) { return reinterpret_cast<__m256i>(s.scale(j)); }

// sum over j of m_j * (sum of the activations of sub-block j), per lane.
inline __m256i min_sum(const Scales& s, const BlockQ8K& x) {
  const auto m = s.min_pairs();
  const auto bs = k4_bsum_pairs(x);
  __m256i t = _mm256_setzero_si256();
  for (int i = 0; i < 4; ++i) t = _mm256_add_epi32(t, _mm256_madd_epi16(reinterpret_cast<__m256i>(m[i]), _mm256_set1_epi32(bs[i])));
  return t;
}

template <class Group>
struct Kx16 {
  static constexpr bool kFive = std::is_same_v<Group, BlockQ5_Kx16>;
  static constexpr int kWiden = kFive ? 4 : 8;  // pieces per int16 sum
  static constexpr int kX = 2;  // 16 registers: two activation rows keep everything in them
  template <int X>
  static void micro(const GemmArgs& a, std::int64_t i0, std::int64_t j0) {
    const std::int64_t nb = a.n / kQKK;
    const PrefetchDistances pf = prefetch_distances(DType::Q4_K_R16, a.nx <= kX);  // a copy: stays in registers
    const auto* w = reinterpret_cast<const Group*>(a.w + i0 * a.w_stride);
    const BlockQ8K* x[X];
    __m256 acc[2][X];
    DSV2_UNROLL
    for (int c = 0; c < X; ++c) x[c] = reinterpret_cast<const BlockQ8K*>(a.x + (j0 + c) * a.x_stride);
    for (auto& row : acc)
      for (auto& v : row) v = _mm256_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1);
    for (std::int64_t b = 0; b < nb; ++b) {
      DSV2_UNROLL
      for (int h = 0; h < 2; ++h) {
        const Scales s(w[b], h * kHalf);
        __m256i isum[X];
        DSV2_UNROLL
        for (int c = 0; c < X; ++c) isum[c] = _mm256_setzero_si256();
        DSV2_UNROLL
        for (int k = 0; k < 4; ++k) {
          if (h == 0) prefetch_ahead_part(w + b, k, 4, pf);  // tile.h: spread over the super-block
          __m256i lo32[X], hi32[X];
          DSV2_UNROLL
          for (int c = 0; c < X; ++c) lo32[c] = hi32[c] = _mm256_setzero_si256();
          DSV2_UNROLL
          for (int p0 = 0; p0 < 8; p0 += kWiden) {
            __m256i lo16[X], hi16[X];
            DSV2_UNROLL
            for (int c = 0; c < X; ++c) lo16[c] = hi16[c] = _mm256_setzero_si256();
            DSV2_UNROLL
            for (int p = p0; p < p0 + kWiden; ++p) {
              const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[b].qs[k][p][h * kHalf]));
              __m256i lo = _mm256_and_si256(v, m4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
              if constexpr (kFive) {
                lo = _mm256_or_si256(lo, bits_to_16s(static_cast<std::uint32_t>(w[b].hmask[k][p][0] >> (32 * h))));
                hi = _mm256_or_si256(hi, bits_to_16s(static_cast<std::uint32_t>(w[b].hmask[k][p][1] >> (32 * h))));
              }
              DSV2_UNROLL
              for (int c = 0; c < X; ++c) {
                const std::int8_t* q = x[c][b].qs + 64 * k + 4 * p;
                lo16[c] = _mm256_add_epi16(lo16[c], _mm256_maddubs_epi16(lo, broadcast32(q)));
                hi16[c] = _mm256_add_epi16(hi16[c], _mm256_maddubs_epi16(hi, broadcast32(q + 32)));
              }
            }
            DSV2_UNROLL
            for (int c = 0; c < X; ++c) {
              lo32[c] = _mm256_add_epi32(lo32[c], _mm256_madd_epi16(lo16[c], ones));
              hi32[c] = _mm256_add_epi32(hi32[c], _mm256_madd_epi16(hi16[c], ones));
            }
          }
          const __m256i s_lo = scale(s, 2 * k), s_hi = scale(s, 2 * k + 1);
          DSV2_UNROLL
          for (int c = 0; c < X; ++c) {
            const __m256i l = _mm256_mullo_epi32(lo32[c], s_lo);
            const __m256i u = _mm256_mullo_epi32(hi32[c], s_hi);
            isum[c] = _mm256_add_epi32(isum[c], _mm256_add_epi32(l, u));
          }
        }
        const __m256 wd = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w[b].d + h * kHalf)));
        const __m256 wm = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w[b].dmin + h * kHalf)));
        DSV2_UNROLL
        for (int c = 0; c < X; ++c) {
          const __m256 dx = _mm256_set1_ps(x[c][b].d);
          acc[h][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[c]), _mm256_mul_ps(wd, dx), acc[h][c]);
          acc[h][c] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(min_sum(s, x[c][b])), _mm256_mul_ps(wm, dx), acc[h][c]);
        }
      }
    }
    store_group<X>(a, i0, j0, acc);
  }
};

}  // namespace

void gemm_q4_k_r16(const GemmArgs& args) { gemm_row_groups<Kx16<BlockQ4_Kx16>>(args); }
void gemm_q5_k_r16(const GemmArgs& args) { gemm_row_groups<Kx16<BlockQ5_Kx16>>(args); }

}  // namespace dsv2::kernels::avx2
