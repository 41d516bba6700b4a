// AVX2 kernels for the row-interleaved layouts (blocks.h): a 256-bit vector holds 8 rows, so each
// group is computed as two halves of 8 rows. Q4_0 x Q8_0 uses vpmaddubsw (nibbles unsigned) and
// sums a block's eight int16 products before widening; Q8_0 x Q16_0 uses vpmaddwd. Weights are
// unpacked once per block and half and meet up to kX activation rows. Bit-identical to the scalar
// reference in interleaved_scalar.cpp.
#include <immintrin.h>

#include <cstring>
#include <type_traits>

#include "kernels/avx2_util.h"
#include "kernels/isa_impl.h"
#include "kernels/tile.h"

namespace dsv2::kernels::avx2 {

namespace {

constexpr int kTileX = 4;  // activation rows per pass over a group's blocks
constexpr int kHalf = kRowGroup / 2;

// acc[h][c] += float(s[c]) * (d_w of half h) * d_x[c]
template <int X>
void scale_add(const std::uint16_t* d, const float* xd, const __m256i* s, __m256* acc) {
  const __m256 wd = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(d)));
  DSV2_UNROLL
  for (int c = 0; c < X; ++c)
    acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[c]), _mm256_mul_ps(wd, _mm256_set1_ps(xd[c])), acc[c]);
}

// Q4_0, Q5_0 and Q5_1 (the fifth bits add 16 through byte masks; Q5_1's mins add
// m_w * d_x * (activation block sum) after each block, as in the scalar reference).
template <class Block>
struct Nibbles16 {
  static constexpr bool kFive = !std::is_same_v<Block, BlockQ4_0x16>;
  static constexpr bool kMin = std::is_same_v<Block, BlockQ5_1x16>;
  static constexpr int kOffset = kMin ? 0 : kFive ? 16 : 8;
  static constexpr int kX = kTileX;
  template <int X>
  static void micro(const GemmArgs& a, std::int64_t i0, std::int64_t j0) {
    const std::int64_t nb = a.n / kQK;
    const PrefetchDistances pf = prefetch_distances(kFive ? DType::Q5_0_R16 : DType::Q4_0_R16, a.nx <= kX);  // a copy: stays in registers
    const auto* w = reinterpret_cast<const Block*>(a.w + i0 * a.w_stride);
    ActQ8_0Row x[X];
    __m256 acc[2][X];
    DSV2_UNROLL
    for (int c = 0; c < X; ++c) x[c] = act_q8_0_row(a.x + (j0 + c) * a.x_stride, a.n);
    for (auto& row : acc)
      for (auto& v : row) v = _mm256_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1);
    for (std::int64_t b = 0; b < nb; ++b) {
      float xd[X];
      DSV2_UNROLL
      for (int c = 0; c < X; ++c) xd[c] = x[c].d[b];
      DSV2_UNROLL
      for (int h = 0; h < 2; ++h) {
        // |nibble * x| pairs <= 2 * 15 * 128, eight of them <= 30720: the int16 sums cannot
        // overflow. 5-bit pairs reach 2 * 31 * 128, so Q5_0 widens after every four (two pieces).
        constexpr int kWiden = kFive ? 2 : 4;  // pieces per int16 sum
        __m256i s[X];
        DSV2_UNROLL
        for (int c = 0; c < X; ++c) s[c] = _mm256_set1_epi32(-kOffset * x[c].sum[b]);
        DSV2_UNROLL
        for (int k0 = 0; k0 < 4; k0 += kWiden) {
          __m256i s16[X];
          DSV2_UNROLL
          for (int c = 0; c < X; ++c) s16[c] = _mm256_setzero_si256();
          DSV2_UNROLL
          for (int k = k0; k < k0 + kWiden; ++k) {
            if (h == 0 && k % 2 == 0) prefetch_ahead_part(w + b, k / 2, 2, pf);  // tile.h: spread
            const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[b].qs[k][h * kHalf]));
            __m256i lo = _mm256_and_si256(v, m4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
            if constexpr (kFive) {
              lo = _mm256_or_si256(lo, bits_to_16s(static_cast<std::uint32_t>(w[b].hmask[k][0] >> (32 * h))));
              hi = _mm256_or_si256(hi, bits_to_16s(static_cast<std::uint32_t>(w[b].hmask[k][1] >> (32 * h))));
            }
            DSV2_UNROLL
            for (int c = 0; c < X; ++c) {
              const std::int8_t* q = x[c].qs + b * kQK;
              s16[c] = _mm256_add_epi16(s16[c], _mm256_maddubs_epi16(lo, broadcast32(q + 4 * k)));
              s16[c] = _mm256_add_epi16(s16[c], _mm256_maddubs_epi16(hi, broadcast32(q + 16 + 4 * k)));
            }
          }
          DSV2_UNROLL
          for (int c = 0; c < X; ++c) s[c] = _mm256_add_epi32(s[c], _mm256_madd_epi16(s16[c], ones));
        }
        scale_add<X>(w[b].d + h * kHalf, xd, s, acc[h]);
        if constexpr (kMin) {
          const __m256 wm = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w[b].m + h * kHalf)));
          DSV2_UNROLL
          for (int c = 0; c < X; ++c)
            acc[h][c] = _mm256_fmadd_ps(_mm256_set1_ps(static_cast<float>(x[c].sum[b])), _mm256_mul_ps(wm, _mm256_set1_ps(xd[c])), acc[h][c]);
        }
      }
    }
    store_group<X>(a, i0, j0, acc);
  }
};

struct Q8_0x16 {
  static constexpr int kX = kTileX;
  template <int X>
  static void micro(const GemmArgs& a, std::int64_t i0, std::int64_t j0) {
    const std::int64_t nb = a.n / kQK;
    const PrefetchDistances pf = prefetch_distances(DType::Q8_0_R16, a.nx <= kX);  // a copy: stays in registers
    const auto* w = reinterpret_cast<const BlockQ8_0x16*>(a.w + i0 * a.w_stride);
    ActQ16_0Row x[X];
    __m256 acc[2][X];
    DSV2_UNROLL
    for (int c = 0; c < X; ++c) x[c] = act_q16_0_row(a.x + (j0 + c) * a.x_stride, a.n);
    for (auto& row : acc)
      for (auto& v : row) v = _mm256_setzero_ps();
    for (std::int64_t b = 0; b < nb; ++b) {
      float xd[X];
      DSV2_UNROLL
      for (int c = 0; c < X; ++c) xd[c] = x[c].d[b];
      DSV2_UNROLL
      for (int h = 0; h < 2; ++h) {
        __m256i s[X];
        DSV2_UNROLL
        for (int c = 0; c < X; ++c) s[c] = _mm256_setzero_si256();
        DSV2_UNROLL
        for (int p = 0; p < kQK / 2; ++p) {
          if (h == 0 && p % 8 == 0) prefetch_ahead_part(w + b, p / 8, 2, pf);  // tile.h: spread
          const __m256i wq = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w[b].qs[p][h * kHalf])));
          DSV2_UNROLL
          for (int c = 0; c < X; ++c)
            s[c] = _mm256_add_epi32(s[c], _mm256_madd_epi16(wq, broadcast32(x[c].qs + b * kQK + 2 * p)));
        }
        scale_add<X>(w[b].d + h * kHalf, xd, s, acc[h]);
      }
    }
    store_group<X>(a, i0, j0, acc);
  }
};

}  // namespace

void gemm_q4_0_r16(const GemmArgs& args) { gemm_row_groups<Nibbles16<BlockQ4_0x16>>(args); }
void gemm_q5_0_r16(const GemmArgs& args) { gemm_row_groups<Nibbles16<BlockQ5_0x16>>(args); }
void gemm_q5_1_r16(const GemmArgs& args) { gemm_row_groups<Nibbles16<BlockQ5_1x16>>(args); }
void gemm_q8_0_r16(const GemmArgs& args) { gemm_row_groups<Q8_0x16>(args); }

}  // namespace dsv2::kernels::avx2
