// AVX2 kernel for Q6_K_R16 (blocks.h) against Q8_K activations: a 256-bit vector holds 8 rows,
// so each group is computed as two halves of 8 rows. A pair's three vectors give three sides
// with one and each and the fourth from their top-bit pairs (three shifts, three ands, two ors);
// vpmaddubsw products are summed as int16 one pair at a time (|sum| <= 4 * 63 * 128 = 32256)
// before vpmaddwd widens them; the "- 32" comes off via the activation sub-block sums and vpmulld
// applies the int8 scales. Bit-identical to the scalar reference in interleaved_scalar.cpp.
#include <immintrin.h>

#include <cstring>

#include "kernels/avx2_util.h"
#include "kernels/isa_impl.h"
#include "kernels/tile.h"

namespace dsv2::kernels::avx2 {

namespace {

constexpr int kHalf = kRowGroup / 2;

// The four sides of a pair (v: its three vectors), rows of half h, as bytes in [0, 63]
// (blocks.h), as in interleaved_k6_avx512.cpp: the 16-bit shifts pull bits across bytes, the ands
// drop them.
inline void pair_values(const std::uint8_t (*v)[kRowGroup][4], int h, __m256i (&out)[4]) {
  const auto load = [&](int k) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(v[k][h * kHalf])); };
  const __m256i a = load(0), b = load(1), c = load(2);
  const auto bits = [](__m256i x, int m) { return _mm256_and_si256(x, _mm256_set1_epi8(static_cast<char>(m))); };
  out[0] = bits(a, 63);
  out[1] = bits(b, 63);
  out[2] = bits(c, 63);
  out[3] = _mm256_or_si256(_mm256_or_si256(bits(_mm256_srli_epi16(a, 6), 0x03), bits(_mm256_srli_epi16(b, 4), 0x0C)),
                           bits(_mm256_srli_epi16(c, 2), 0x30));
}

struct Q6_Kx16 {
  static constexpr int kX = 2;  // 16 registers: two activation rows keep everything in them
  template <int X>
  static void micro(const GemmArgs& a, std::int64_t i0, std::int64_t j0) {
    const std::int64_t nb = a.n / kQKK;
    const PrefetchDistances pf = prefetch_distances(DType::Q6_K_R16, a.nx <= kX);  // a copy: stays in registers
    const auto* w = reinterpret_cast<const BlockQ6_Kx16*>(a.w + i0 * a.w_stride);
    const BlockQ8K* x[X];
    __m256 acc[2][X];
    DSV2_UNROLL
    for (int c = 0; c < X; ++c) x[c] = reinterpret_cast<const BlockQ8K*>(a.x + (j0 + c) * a.x_stride);
    for (auto& row : acc)
      for (auto& v : row) v = _mm256_setzero_ps();
    const __m256i ones = _mm256_set1_epi16(1);
    for (std::int64_t b = 0; b < nb; ++b) {
      DSV2_UNROLL
      for (int h = 0; h < 2; ++h) {
        __m256i isum[X];
        DSV2_UNROLL
        for (int c = 0; c < X; ++c) isum[c] = _mm256_setzero_si256();
        for (int t = 0; t < 8; ++t) {
          if (h == 0) prefetch_ahead_part(w + b, t, 8, pf);  // tile.h: spread over the super-block
          __m256i dot[X][2];
          DSV2_UNROLL
          for (int c = 0; c < X; ++c) dot[c][0] = dot[c][1] = _mm256_setzero_si256();
          DSV2_UNROLL
          for (int u = 0; u < 2; ++u) {
            __m256i s16[X][2];
            DSV2_UNROLL
            for (int c = 0; c < X; ++c) s16[c][0] = s16[c][1] = _mm256_setzero_si256();
            __m256i v[4];
            pair_values(w[b].v[2 * t + u], h, v);
            DSV2_UNROLL
            for (int k = 0; k < 4; ++k) {
              // side k: piece 4t + 2u + k / 2, sub-block 2t + k % 2
              const int at = 32 * t + 16 * (k % 2) + 8 * u + 4 * (k / 2);
              DSV2_UNROLL
              for (int c = 0; c < X; ++c)
                s16[c][k % 2] = _mm256_add_epi16(s16[c][k % 2], _mm256_maddubs_epi16(v[k], broadcast32(x[c][b].qs + at)));
            }
            DSV2_UNROLL
            for (int c = 0; c < X; ++c)
              DSV2_UNROLL
              for (int s = 0; s < 2; ++s) dot[c][s] = _mm256_add_epi32(dot[c][s], _mm256_madd_epi16(s16[c][s], ones));
          }
          DSV2_UNROLL
          for (int s = 0; s < 2; ++s) {
            const __m256i sc = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(w[b].scales[2 * t + s] + h * kHalf)));
            DSV2_UNROLL
            for (int c = 0; c < X; ++c) {
              const __m256i d = _mm256_sub_epi32(dot[c][s], _mm256_set1_epi32(32 * x[c][b].bsums[2 * t + s]));
              isum[c] = _mm256_add_epi32(isum[c], _mm256_mullo_epi32(d, sc));
            }
          }
        }
        const __m256 wd = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w[b].d + h * kHalf)));
        DSV2_UNROLL
        for (int c = 0; c < X; ++c)
          acc[h][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[c]), _mm256_mul_ps(wd, _mm256_set1_ps(x[c][b].d)), acc[h][c]);
      }
    }
    store_group<X>(a, i0, j0, acc);
  }
};

}  // namespace

void gemm_q6_k_r16(const GemmArgs& args) { gemm_row_groups<Q6_Kx16>(args); }

}  // namespace dsv2::kernels::avx2
