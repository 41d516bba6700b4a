// AVX-512 VNNI kernels for the row-interleaved layouts (blocks.h): lane r of every vector is
// weight row r of the group, so a block's 16 dot products accumulate in one register with
// vpdpbusd (Q4_0 x Q8_0) or vpdpwssd (Q8_0 x Q16_0) against broadcast activation bytes, and one
// int -> float conversion and one fma per block finish all 16 rows. Bit-identical to the scalar
// reference in interleaved_scalar.cpp.
#include <cstring>
#include <type_traits>

#include "kernels/avx512_util.h"
#include "kernels/isa_impl.h"
#include "kernels/tile.h"

namespace dsv2::kernels::avx512 {

namespace {

constexpr int kTileX = 8;  // activation rows per pass over a group's blocks

// Each weight vector is unpacked once per block and meets the X activation rows in turn, so the
// X integer sums are independent dependency chains that hide vpdpbusd / vpdpwssd latency. With
// one or two rows (decode) that is too few chains: each row's sum is then split over C
// accumulators (kChains), added at the end of the block (integer sums: the result is the same).
template <int X, int kMany>
constexpr int kChains = X <= 2 ? kMany : 1;

template <int X, int C>
inline __m512i sum_chains(const __m512i (&s)[X][C], int c) {
  __m512i t = s[c][0];
  for (int k = 1; k < C; ++k) t = _mm512_add_epi32(t, s[c][k]);
  return t;
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
    constexpr int C = kChains<X, 2>;
    const std::int64_t nb = a.n / kQK;
    const PrefetchDistances pf = prefetch_distances(kFive ? DType::Q5_0_R16 : DType::Q4_0_R16, a.nx <= kX);  // a copy: stays in registers
    const auto* w = reinterpret_cast<const Block*>(a.w + i0 * a.w_stride);
    ActQ8_0Row x[X];
    __m512 acc[X];
    DSV2_UNROLL
    for (int c = 0; c < X; ++c) x[c] = act_q8_0_row(a.x + (j0 + c) * a.x_stride, a.n), acc[c] = _mm512_setzero_ps();
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    for (std::int64_t b = 0; b < nb; ++b) {
      __m512i s[X][C];
      DSV2_UNROLL
      for (int c = 0; c < X; ++c) {
        s[c][0] = _mm512_set1_epi32(-kOffset * x[c].sum[b]);  // the "- 8" / "- 16" of every weight
        for (int k = 1; k < C; ++k) s[c][k] = _mm512_setzero_si512();
      }
      DSV2_UNROLL
      for (int k = 0; k < 4; ++k) {
        if (k % 2 == 0) prefetch_ahead_part(w + b, k / 2, 2, pf);  // tile.h: spread over the block
        const __m512i v = _mm512_loadu_si512(w[b].qs[k]);
        __m512i lo = _mm512_and_si512(v, m4), hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
        if constexpr (kFive) {
          lo = _mm512_mask_add_epi8(lo, w[b].hmask[k][0], lo, _mm512_set1_epi8(16));
          hi = _mm512_mask_add_epi8(hi, w[b].hmask[k][1], hi, _mm512_set1_epi8(16));
        }
        DSV2_UNROLL
        for (int c = 0; c < X; ++c) {
          const std::int8_t* q = x[c].qs + b * kQK;
          s[c][0] = _mm512_dpbusd_epi32(s[c][0], lo, broadcast32(q + 4 * k));
          s[c][C - 1] = _mm512_dpbusd_epi32(s[c][C - 1], hi, broadcast32(q + 16 + 4 * k));
        }
      }
      const __m512 wd = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[b].d)));
      DSV2_UNROLL
      for (int c = 0; c < X; ++c) {
        const __m512 xd = _mm512_set1_ps(x[c].d[b]);
        acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum_chains<X, C>(s, c)), _mm512_mul_ps(wd, xd), acc[c]);
        if constexpr (kMin) {
          const __m512 wm = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[b].m)));
          acc[c] = _mm512_fmadd_ps(_mm512_set1_ps(static_cast<float>(x[c].sum[b])), _mm512_mul_ps(wm, xd), acc[c]);
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
    __m512 acc[X];
    DSV2_UNROLL
    for (int c = 0; c < X; ++c) x[c] = act_q16_0_row(a.x + (j0 + c) * a.x_stride, a.n), acc[c] = _mm512_setzero_ps();
    constexpr int C = kChains<X, 4>;
    for (std::int64_t b = 0; b < nb; ++b) {
      __m512i s[X][C];
      DSV2_UNROLL
      for (int c = 0; c < X; ++c)
        DSV2_UNROLL
        for (int k = 0; k < C; ++k) s[c][k] = _mm512_setzero_si512();
      DSV2_UNROLL
      for (int p = 0; p < kQK / 2; ++p) {
        if (p % 8 == 0) prefetch_ahead_part(w + b, p / 8, 2, pf);  // tile.h: spread over the block
        // values 2p, 2p + 1 of the 16 rows, sign-extended to int16 pairs
        const __m512i wq = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[b].qs[p])));
        DSV2_UNROLL
        for (int c = 0; c < X; ++c)
          s[c][p % C] = _mm512_dpwssd_epi32(s[c][p % C], wq, broadcast32(x[c].qs + b * kQK + 2 * p));
      }
      const __m512 wd = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[b].d)));
      DSV2_UNROLL
      for (int c = 0; c < X; ++c)
        acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum_chains<X, C>(s, c)), _mm512_mul_ps(wd, _mm512_set1_ps(x[c].d[b])), acc[c]);
    }
    store_group<X>(a, i0, j0, acc);
  }
};

}  // namespace

void gemm_q4_0_r16(const GemmArgs& args) { gemm_row_groups<Nibbles16<BlockQ4_0x16>>(args); }
void gemm_q5_0_r16(const GemmArgs& args) { gemm_row_groups<Nibbles16<BlockQ5_0x16>>(args); }
void gemm_q5_1_r16(const GemmArgs& args) { gemm_row_groups<Nibbles16<BlockQ5_1x16>>(args); }
void gemm_q8_0_r16(const GemmArgs& args) { gemm_row_groups<Q8_0x16>(args); }

}  // namespace dsv2::kernels::avx512
