// Internal: helpers shared by the *_avx512.cpp files only. Static, so no copy built with these
// -m flags can stand in for a same-named function elsewhere.
#pragma once
// GCC 12's AVX-512 headers seed casts and reductions with _mm512_undefined_*(), which its
// -Wuninitialized flags falsely (GCC bug 105593, fixed in GCC 13).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/blocks.h"
#include "kernels/tile.h"

namespace dsv2::kernels::avx512 {

// [a x 8, b x 8]: the scales of two 32-value blocks, one per 256-bit half.
static inline __m512 splat2(float a, float b) {
  return _mm512_insertf32x8(_mm512_set1_ps(a), _mm256_set1_ps(b), 1);
}
static inline __m512 splat2_f16(std::uint16_t a, std::uint16_t b) {
  const __m128 f = _mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(a | (static_cast<unsigned>(b) << 16))));
  return _mm512_permutexvar_ps(_mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0),
                               _mm512_castps128_ps512(f));
}
static inline float f16(std::uint16_t h) { return _cvtsh_ss(h); }

// A row group's outputs for X activation rows (lane r of acc[c]: weight row i0 + r).
template <int X>
static inline void store_group(const GemmArgs& a, std::int64_t i0, std::int64_t j0, const __m512* acc) {
  DSV2_UNROLL
  for (int c = 0; c < X; ++c) _mm512_storeu_ps(a.y + (j0 + c) * a.ldy + i0, acc[c]);
}

// A row kernel's W x X tile: acc[r][c] holds weight row i0 + r against activation row j0 + c,
// whose lanes sum to that output.
template <int W, int X>
static inline void store_tile(const GemmArgs& a, std::int64_t i0, std::int64_t j0, const __m512 (&acc)[W][X]) {
  DSV2_UNROLL
  for (int r = 0; r < W; ++r)
    DSV2_UNROLL
    for (int c = 0; c < X; ++c) a.y[(j0 + c) * a.ldy + i0 + r] = _mm512_reduce_add_ps(acc[r][c]);
}

// Four bytes at p (any alignment) in every 32-bit lane.
static inline __m512i broadcast32(const void* p) {
  std::int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

static inline __m512i load2x256(const void* a, const void* b) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256(static_cast<const __m256i*>(a))),
                            _mm256_loadu_si256(static_cast<const __m256i*>(b)), 1);
}

}  // namespace dsv2::kernels::avx512
