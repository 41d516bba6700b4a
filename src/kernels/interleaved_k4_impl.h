// Internal: the parts of the Q4_K_R16 kernels (interleaved_k4_avx2.cpp / _avx512.cpp) that are
// the same word operations at any vector width, in GCC's portable vector types: unpacking the
// 6-bit scales and mins of kLanes rows at once (unpack_scales_k4_u64's operations, one row per
// 32-bit lane), and the pairs in which the mins meet the activations' sub-block sums.
#pragma once
#include <array>
#include <cstdint>
#include <cstring>

#include "kernels/blocks.h"

namespace dsv2::kernels {

// uint32 lanes; spelled out per width (GCC drops vector_size with a template-dependent size).
template <int kLanes>
struct U32Lanes;
template <>
struct U32Lanes<8> {
  using type = std::uint32_t __attribute__((vector_size(32)));
};
template <>
struct U32Lanes<16> {
  using type = std::uint32_t __attribute__((vector_size(64)));
};

template <int kLanes>
struct K4Scales {
  using V = typename U32Lanes<kLanes>::type;
  // Byte j % 4 of each lane: sub-block j's scale (sc) or min (m), lo for j < 4, hi for j >= 4.
  V sc_lo, sc_hi, m_lo, m_hi;

  // Rows [r0, r0 + kLanes) of the group's super-block w (BlockQ4_Kx16 or BlockQ5_Kx16).
  template <class Group>
  K4Scales(const Group& w, int r0) {
    V u0, u1, u2;
    std::memcpy(&u0, &w.scales[0][r0], sizeof(V));
    std::memcpy(&u1, &w.scales[1][r0], sizeof(V));
    std::memcpy(&u2, &w.scales[2][r0], sizeof(V));
    sc_lo = u0 & 0x3f3f3f3fu;
    m_lo = u1 & 0x3f3f3f3fu;
    sc_hi = (u2 & 0x0f0f0f0fu) | (((u0 >> 6) & 0x03030303u) << 4);
    m_hi = ((u2 >> 4) & 0x0f0f0f0fu) | (((u1 >> 6) & 0x03030303u) << 4);
  }
  // Sub-block j's scale of every row.
  V scale(int j) const { return ((j < 4 ? sc_lo : sc_hi) >> (8 * (j % 4))) & 0xFFu; }
  // The mins as int16 pairs per lane, (m0, m2), (m1, m3), (m4, m6), (m5, m7), for vpmaddwd
  // against k4_bsum_pairs.
  std::array<V, 4> min_pairs() const {
    return {m_lo & 0x00FF00FFu, (m_lo >> 8) & 0x00FF00FFu, m_hi & 0x00FF00FFu, (m_hi >> 8) & 0x00FF00FFu};
  }
};

// The activations' 32-value sub-block sums as the int16 pairs matching min_pairs: (s0, s2),
// (s1, s3), (s4, s6), (s5, s7). Each |s_j| <= 32 * 128 fits in 16 bits.
inline std::array<std::int32_t, 4> k4_bsum_pairs(const BlockQ8K& x) {
  std::uint32_t s[8];
  for (int j = 0; j < 8; ++j) s[j] = static_cast<std::uint32_t>(x.bsums[2 * j] + x.bsums[2 * j + 1]) & 0xFFFF;
  auto pair = [&](int a, int b) { return static_cast<std::int32_t>(s[a] | s[b] << 16); };
  return {pair(0, 2), pair(1, 3), pair(4, 6), pair(5, 7)};
}

}  // namespace dsv2::kernels
