// AVX-512 VNNI kernels for the 32-value nibble formats (Q4_0, Q5_0, Q5_1) x Q8_0 activations.
// Nibbles are used as unsigned bytes in vpdpbusd, two blocks per vector; Q5's fifth bits (qh of
// both blocks as one 64-bit byte mask) add 16. The offsets become activation block sums: Q4_0's
// "- 8" and Q5_0's "- 16" as -8 / -16 * sum seeding lane 0 of each block's accumulator, Q5_1's
// min as m_w * d_x * sum added to the same lanes in float. So there is one vpdpbusd per pair of
// blocks per (weight row, act row).
#include <cstring>
#include <type_traits>

#include "kernels/avx512_util.h"
#include "kernels/isa_impl.h"
#include "kernels/prefetch.h"
#include "kernels/tile.h"

namespace dsv2::kernels::avx512 {

namespace {

// Two blocks' values as 64 bytes in value order: [A 0-15, A 16-31, B 0-15, B 16-31].
template <class Block>
inline __m512i unpack_pair(const Block& a, const Block& b) {
  const __m256i v = _mm256_inserti128_si256(
      _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a.qs))),
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs)), 1);
  // 128-bit lanes [A, A, B, B]; shift the copies holding high nibbles (lanes 1 and 3) by 4.
  const __m512i dup = _mm512_shuffle_i64x2(_mm512_castsi256_si512(v), _mm512_castsi256_si512(v), 0x50);
  const __m512i sh = _mm512_srlv_epi64(dup, _mm512_set_epi64(4, 4, 0, 0, 4, 4, 0, 0));
  const __m512i q = _mm512_and_si512(sh, _mm512_set1_epi8(0x0F));
  if constexpr (std::is_same_v<Block, BlockQ4_0>) {
    return q;
  } else {
    std::uint32_t ha, hb;
    std::memcpy(&ha, a.qh, 4);
    std::memcpy(&hb, b.qh, 4);
    const __mmask64 fifth = static_cast<__mmask64>(ha) | static_cast<__mmask64>(hb) << 32;
    return _mm512_mask_add_epi8(q, fifth, q, _mm512_set1_epi8(16));
  }
}

template <class Block>
struct NibbleKernel {
  static constexpr bool kMin = std::is_same_v<Block, BlockQ5_1>;
  static constexpr int kOffsetShift = std::is_same_v<Block, BlockQ4_0> ? 3 : 4;  // the offset, 8 or 16
  static constexpr int kW = 4, kX = 4;
  static constexpr std::int64_t kPrefetchTiles = 2;

  template <int W, int X>
  static void micro(const GemmArgs& a, std::int64_t i0, std::int64_t j0) {
    const std::int64_t nb = a.n / kQK;
    const Block* w[W];
    ActQ8_0Row x[X];
    DSV2_UNROLL
    for (int r = 0; r < W; ++r) w[r] = reinterpret_cast<const Block*>(a.w + (i0 + r) * a.w_stride);
    DSV2_UNROLL
    for (int c = 0; c < X; ++c) x[c] = act_q8_0_row(a.x + (j0 + c) * a.x_stride, a.n);
    __m512 acc[W][X];
    DSV2_UNROLL
    for (int r = 0; r < W; ++r)
      DSV2_UNROLL
      for (int c = 0; c < X; ++c) acc[r][c] = _mm512_setzero_ps();
    const __m512i lane0_of_halves = _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    for (std::int64_t b = 0; b < nb; b += 2) {
      const bool pair = b + 1 < nb;
      __m512i xq[X], sums[X];
      __m512 xd[X];
      DSV2_UNROLL
      for (int c = 0; c < X; ++c) {
        xq[c] = pair ? _mm512_loadu_si512(x[c].qs + b * kQK)
                     : _mm512_zextsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[c].qs + b * kQK)));
        xd[c] = splat2(x[c].d[b], pair ? x[c].d[b + 1] : 0.0f);
        const __m512i s = _mm512_castsi128_si512(_mm_set_epi32(0, 0, pair ? x[c].sum[b + 1] : 0, x[c].sum[b]));
        sums[c] = _mm512_maskz_permutexvar_epi32(0x0101, lane0_of_halves, s);  // in lanes 0 and 8
        if constexpr (!kMin) sums[c] = _mm512_slli_epi32(_mm512_sub_epi32(_mm512_setzero_si512(), sums[c]), kOffsetShift);
      }
      DSV2_UNROLL
      for (int r = 0; r < W; ++r) {
        // Rows are short (~1 KB), too short for the hardware prefetcher to ramp up on each:
        // fetch the rows two tiles ahead while this tile computes.
        prefetch_l1(reinterpret_cast<const char*>(&w[r][b]) + kPrefetchTiles * kW * a.w_stride);
        const Block& lo = w[r][b];
        const Block& hi = pair ? w[r][b + 1] : w[r][b];
        const __m512i wq = unpack_pair(lo, hi);
        const __m512 wd = splat2_f16(lo.d, hi.d);
        DSV2_UNROLL
        for (int c = 0; c < X; ++c) {
          const __m512i s = _mm512_dpbusd_epi32(kMin ? _mm512_setzero_si512() : sums[c], wq, xq[c]);
          acc[r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(wd, xd[c]), acc[r][c]);
          if constexpr (kMin)
            acc[r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums[c]), _mm512_mul_ps(splat2_f16(lo.m, hi.m), xd[c]), acc[r][c]);
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

}  // namespace dsv2::kernels::avx512
