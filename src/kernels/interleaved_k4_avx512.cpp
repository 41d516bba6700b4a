// AVX-512 VNNI kernel for Q4_K_R16 and Q5_K_R16 (blocks.h) against Q8_K activations (Q5_K's
// fifth bits add 16 through one masked vpaddb per nibble vector): lane r of every vector
// is weight row r of the group, as in interleaved_avx512.cpp. Per sub-block of 32 values, 8
// vpdpbusd give the 16 rows' integer dot products; one vpmulld applies the rows' 6-bit scales;
// the mins meet the activations' sub-block sums by vpmaddwd. The plain Q4_K kernel
// (k4_avx512.cpp) spends its instructions on horizontal work (scale shuffles, per-row
// reductions): decode over this layout reads several times faster (docs/benchmarks.md).
// Bit-identical to the scalar reference in interleaved_scalar.cpp.
#include <cstring>
#include <type_traits>

#include "kernels/avx512_util.h"
#include "kernels/interleaved_k4_impl.h"
#include "kernels/isa_impl.h"
#include "kernels/tile.h"

namespace dsv2::kernels::avx512 {

namespace {

using Scales = K4Scales<16>;

inline __m512i scale(const Scales& s, int j) { return reinterpret_cast<__m512i>(s.scale(j)); }

// sum over j of m_j * (sum of the activations of sub-block j), per lane.
inline __m512i min_sum(const Scales& s, const BlockQ8K& x) {
  const auto m = s.min_pairs();
  const auto bs = k4_bsum_pairs(x);
  __m512i t = _mm512_setzero_si512();
  for (int i = 0; i < 4; ++i) t = _mm512_add_epi32(t, _mm512_madd_epi16(reinterpret_cast<__m512i>(m[i]), _mm512_set1_epi32(bs[i])));
  return t;
}

template <class Group>
struct Kx16 {
  static constexpr bool kFive = std::is_same_v<Group, BlockQ5_Kx16>;
  static constexpr int kX = 4;
  template <int X>
  static void micro(const GemmArgs& a, std::int64_t i0, std::int64_t j0) {
    // Decode (one or two activation rows): each sub-block's 8 products go to two chains.
    constexpr int C = X <= 2 ? 2 : 1;
    const std::int64_t nb = a.n / kQKK;
    const PrefetchDistances pf = prefetch_distances(DType::Q4_K_R16, a.nx <= kX);  // a copy: stays in registers
    const auto* w = reinterpret_cast<const Group*>(a.w + i0 * a.w_stride);
    const BlockQ8K* x[X];
    __m512 acc[X];
    DSV2_UNROLL
    for (int c = 0; c < X; ++c) x[c] = reinterpret_cast<const BlockQ8K*>(a.x + (j0 + c) * a.x_stride), acc[c] = _mm512_setzero_ps();
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    for (std::int64_t b = 0; b < nb; ++b) {
      const Scales s(w[b], 0);
      __m512i isum[X];
      DSV2_UNROLL
      for (int c = 0; c < X; ++c) isum[c] = _mm512_setzero_si512();
      DSV2_UNROLL
      for (int k = 0; k < 4; ++k) {
        prefetch_ahead_part(w + b, k, 4, pf);  // tile.h: spread over the super-block
        __m512i lo_sum[X][C], hi_sum[X][C];
        DSV2_UNROLL
        for (int c = 0; c < X; ++c)
          DSV2_UNROLL
          for (int h = 0; h < C; ++h) lo_sum[c][h] = hi_sum[c][h] = _mm512_setzero_si512();
        DSV2_UNROLL
        for (int p = 0; p < 8; ++p) {
          const __m512i v = _mm512_loadu_si512(w[b].qs[k][p]);
          __m512i lo = _mm512_and_si512(v, m4), hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
          if constexpr (kFive) {
            lo = _mm512_mask_add_epi8(lo, w[b].hmask[k][p][0], lo, _mm512_set1_epi8(16));
            hi = _mm512_mask_add_epi8(hi, w[b].hmask[k][p][1], hi, _mm512_set1_epi8(16));
          }
          DSV2_UNROLL
          for (int c = 0; c < X; ++c) {
            const std::int8_t* q = x[c][b].qs + 64 * k + 4 * p;
            lo_sum[c][p % C] = _mm512_dpbusd_epi32(lo_sum[c][p % C], lo, broadcast32(q));
            hi_sum[c][p % C] = _mm512_dpbusd_epi32(hi_sum[c][p % C], hi, broadcast32(q + 32));
          }
        }
        const __m512i s_lo = scale(s, 2 * k), s_hi = scale(s, 2 * k + 1);
        DSV2_UNROLL
        for (int c = 0; c < X; ++c) {
          __m512i l = lo_sum[c][0], h = hi_sum[c][0];
          DSV2_UNROLL
          for (int i = 1; i < C; ++i) l = _mm512_add_epi32(l, lo_sum[c][i]), h = _mm512_add_epi32(h, hi_sum[c][i]);
          isum[c] = _mm512_add_epi32(isum[c], _mm512_add_epi32(_mm512_mullo_epi32(l, s_lo), _mm512_mullo_epi32(h, s_hi)));
        }
      }
      const __m512 wd = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[b].d)));
      const __m512 wm = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[b].dmin)));
      DSV2_UNROLL
      for (int c = 0; c < X; ++c) {
        const __m512 dx = _mm512_set1_ps(x[c][b].d);
        acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[c]), _mm512_mul_ps(wd, dx), acc[c]);
        acc[c] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(min_sum(s, x[c][b])), _mm512_mul_ps(wm, dx), acc[c]);
      }
    }
    store_group<X>(a, i0, j0, acc);
  }
};

}  // namespace

void gemm_q4_k_r16(const GemmArgs& args) { gemm_row_groups<Kx16<BlockQ4_Kx16>>(args); }
void gemm_q5_k_r16(const GemmArgs& args) { gemm_row_groups<Kx16<BlockQ5_Kx16>>(args); }

}  // namespace dsv2::kernels::avx512
