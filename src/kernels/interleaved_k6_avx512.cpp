// AVX-512 VNNI kernel for Q6_K_R16 (blocks.h) against Q8_K activations: lane r of every vector
// is weight row r of the group. Each piece's nibbles get their top two bits from the pair's hb
// vector (a shift and one vpternlogd); 4 vpdpbusd per sub-block of 16 values give the 16 rows' dot
// products, the "- 32" comes off as 32 * (activation sub-block sum), one vpmulld applies the int8
// scales. Bit-identical to the scalar reference in interleaved_scalar.cpp.
#include <cstring>

#include "kernels/avx512_util.h"
#include "kernels/isa_impl.h"
#include "kernels/tile.h"

namespace dsv2::kernels::avx512 {

namespace {

// Values of piece p, side s (0: low nibbles) as bytes in [0, 63]: the nibbles v, their top bits
// moved from bit 4 * s + 2 * (p % 2) of hb to bits 4-5 (16-bit shifts: what crosses a byte is
// masked off).
template <int kShift>
inline __m512i shifted(__m512i hb) {
  if constexpr (kShift > 0) return _mm512_slli_epi16(hb, kShift);
  else if constexpr (kShift < 0) return _mm512_srli_epi16(hb, -kShift);
  else return hb;
}
template <int P, int S>
inline __m512i values(__m512i v, __m512i hb) {
  const __m512i q = _mm512_and_si512(S == 0 ? v : _mm512_srli_epi16(v, 4), _mm512_set1_epi8(0x0F));
  // q | (top & 0x30): vpternlogd with table a | (b & c)
  return _mm512_ternarylogic_epi32(q, shifted<4 - (4 * S + 2 * P)>(hb), _mm512_set1_epi8(0x30), 0xF8);
}

// One piece (P: its place in the pair) against X activation rows, value offset `at`.
template <int P, int X>
inline void piece(const void* qs, __m512i hb, const BlockQ8K* const* x, std::int64_t b, int at, __m512i (*dot)[2]) {
  const __m512i v = _mm512_loadu_si512(qs);
  const __m512i lo = values<P, 0>(v, hb), hi = values<P, 1>(v, hb);
  DSV2_UNROLL
  for (int c = 0; c < X; ++c) {
    dot[c][0] = _mm512_dpbusd_epi32(dot[c][0], lo, broadcast32(x[c][b].qs + at));
    dot[c][1] = _mm512_dpbusd_epi32(dot[c][1], hi, broadcast32(x[c][b].qs + at + 16));
  }
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
        for (int u = 0; u < 2; ++u) {
          const __m512i hb = _mm512_loadu_si512(w[b].hb[2 * t + u]);
          piece<0, X>(w[b].qs[4 * t + 2 * u], hb, x, b, 32 * t + 8 * u, dot);
          piece<1, X>(w[b].qs[4 * t + 2 * u + 1], hb, x, b, 32 * t + 8 * u + 4, dot);
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
