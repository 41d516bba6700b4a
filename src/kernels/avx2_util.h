// Internal: helpers shared by the *_avx2.cpp files only. Static, so no copy built with these
// -m flags can stand in for a same-named function elsewhere.
#pragma once
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/blocks.h"
#include "kernels/tile.h"

namespace dsv2::kernels::avx2 {

static inline float f16(std::uint16_t h) { return _cvtsh_ss(h); }

// A row group's outputs for X activation rows, computed as two halves of 8 rows (lane r of
// acc[h][c]: weight row i0 + 8h + r).
template <int X>
static inline void store_group(const GemmArgs& a, std::int64_t i0, std::int64_t j0, __m256 (*acc)[X]) {
  DSV2_UNROLL
  for (int h = 0; h < 2; ++h)
    DSV2_UNROLL
    for (int c = 0; c < X; ++c) _mm256_storeu_ps(a.y + (j0 + c) * a.ldy + i0 + h * (kRowGroup / 2), acc[h][c]);
}

// Four bytes at p (any alignment) in every 32-bit lane.
static inline __m256i broadcast32(const void* p) {
  std::int32_t v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

static inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// A row kernel's W x X tile: acc[r][c] holds weight row i0 + r against activation row j0 + c,
// whose lanes sum to that output.
template <int W, int X>
static inline void store_tile(const GemmArgs& a, std::int64_t i0, std::int64_t j0, const __m256 (&acc)[W][X]) {
  DSV2_UNROLL
  for (int r = 0; r < W; ++r)
    DSV2_UNROLL
    for (int c = 0; c < X; ++c) a.y[(j0 + c) * a.ldy + i0 + r] = hsum(acc[r][c]);
}

static inline std::int32_t hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}

// 16 in byte j where bit j of m is set (the fifth bits of Q5_0 / Q5_1 values).
static inline __m256i bits_to_16s(std::uint32_t m) {
  const __m256i byte_of = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0);
  const __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(m)), byte_of);
  const __m256i bit = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ull));
  return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(bytes, bit), bit), _mm256_set1_epi8(16));
}

// Sum of unsigned a times signed b over each group of 4 bytes (a <= 127 or b small enough that
// the int16 pair sums of vpmaddubsw cannot saturate).
static inline __m256i dot_u8i8(__m256i a, __m256i b) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), _mm256_set1_epi16(1));
}

}  // namespace dsv2::kernels::avx2
