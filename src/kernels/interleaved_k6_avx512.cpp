// AVX-512 VNNI kernel for Q6_K_R16 (blocks.h) against Q8_K activations: lane r of every vector
// is weight row r of the group. A pair's three vectors give three sides with one and each and
// the fourth from their top-bit pairs (three shifts, two bit selects, an and); 4 vpdpbusd per
// sub-block of 16 values give the 16 rows' dot products, the "- 32" comes off as
// 32 * (activation sub-block sum), one vpmulld applies the int8 scales. Bit-identical to the
// scalar reference in interleaved_scalar.cpp.
#include <cstring>

#include "kernels/avx512_util.h"
#include "kernels/isa_impl.h"
#include "kernels/tile.h"

namespace dsv2::kernels::avx512 {

namespace {

// (a & m) | (b & ~m), bit by bit: vpternlogd's table for "c ? a : b".
inline __m512i select_bits(__m512i m, __m512i a, __m512i b) { return _mm512_ternarylogic_epi32(a, b, m, 0xE4); }

// The four sides of a pair (v: its three vectors) as bytes in [0, 63] (blocks.h): v[0..2] & 63,
// and the fourth from bits 6-7 of each. The 16-bit shifts pull bits across bytes; what crosses
// is selected away.
inline void pair_values(const std::uint8_t (*v)[kRowGroup][4], __m512i (&out)[4]) {
  const __m512i low6 = _mm512_set1_epi8(63);
  const __m512i a = _mm512_loadu_si512(v[0]), b = _mm512_loadu_si512(v[1]), c = _mm512_loadu_si512(v[2]);
  out[0] = _mm512_and_si512(a, low6);
  out[1] = _mm512_and_si512(b, low6);
  out[2] = _mm512_and_si512(c, low6);
  const __m512i low4 = select_bits(_mm512_set1_epi8(0x03), _mm512_srli_epi16(a, 6), _mm512_srli_epi16(b, 4));
  out[3] = _mm512_and_si512(select_bits(_mm512_set1_epi8(0x0F), low4, _mm512_srli_epi16(c, 2)), low6);
}

struct Q6_Kx16 {
  static constexpr int kX = 4;
  template <int X>
  static void micro(const GemmArgs& a, std::int64_t i0, std::int64_t j0) {
    const std::int64_t nb = a.n / kQKK;
    const PrefetchDistances pf = prefetch_distances(DType::Q6_K_R16, a.nx <= kX);  // a copy: stays in registers
    const auto* w = reinterpret_cast<const BlockQ6_Kx16*>(a.w + i0 * a.w_stride);
    const BlockQ8K* x[X];
    __m512 acc[X];
    DSV2_UNROLL
    for (int c = 0; c < X; ++c) x[c] = reinterpret_cast<const BlockQ8K*>(a.x + (j0 + c) * a.x_stride), acc[c] = _mm512_setzero_ps();
    for (std::int64_t b = 0; b < nb; ++b) {
      __m512i isum[X];
      DSV2_UNROLL
      for (int c = 0; c < X; ++c) isum[c] = _mm512_setzero_si512();
      DSV2_UNROLL
      for (int t = 0; t < 8; ++t) {
        prefetch_ahead_part(w + b, t, 8, pf);  // tile.h: spread over the super-block
        __m512i dot[X][2];
        DSV2_UNROLL
        for (int c = 0; c < X; ++c) dot[c][0] = dot[c][1] = _mm512_setzero_si512();
        DSV2_UNROLL
        for (int h = 0; h < 2; ++h) {
          __m512i v[4];
          pair_values(w[b].v[2 * t + h], v);
          DSV2_UNROLL
          for (int k = 0; k < 4; ++k) {
            // side k: piece 4t + 2h + k / 2, sub-block 2t + k % 2
            const int at = 32 * t + 16 * (k % 2) + 8 * h + 4 * (k / 2);
            DSV2_UNROLL
            for (int c = 0; c < X; ++c) dot[c][k % 2] = _mm512_dpbusd_epi32(dot[c][k % 2], v[k], broadcast32(x[c][b].qs + at));
          }
        }
        DSV2_UNROLL
        for (int s = 0; s < 2; ++s) {
          const __m512i sc = _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w[b].scales[2 * t + s])));
          DSV2_UNROLL
          for (int c = 0; c < X; ++c) {
            const __m512i d = _mm512_sub_epi32(dot[c][s], _mm512_set1_epi32(32 * x[c][b].bsums[2 * t + s]));
            isum[c] = _mm512_add_epi32(isum[c], _mm512_mullo_epi32(d, sc));
          }
        }
      }
      const __m512 wd = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[b].d)));
      DSV2_UNROLL
      for (int c = 0; c < X; ++c)
        acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[c]), _mm512_mul_ps(wd, _mm512_set1_ps(x[c][b].d)), acc[c]);
    }
    store_group<X>(a, i0, j0, acc);
  }
};

}  // namespace

void gemm_q6_k_r16(const GemmArgs& args) { gemm_row_groups<Q6_Kx16>(args); }

}  // namespace dsv2::kernels::avx512
