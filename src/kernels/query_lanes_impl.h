// Internal: what the query-lane kernels (kernels.h, LaneDots / LaneSoftmax / LaneSums) share
// between ISAs: the exp every level computes with the same float operations, and the drivers
// that cut a call into register tiles. Instantiate the drivers only with tile classes from an
// ISA file's anonymous namespace, so each instantiation stays private to its translation unit.
#pragma once
#include <array>
#include <cstdint>
#include <utility>

#include "kernels/kernels.h"

namespace dsv2::kernels {

// exp(x) = 2^n * e^r with n = round(x / ln 2) and |r| <= ln(2) / 2; e^r by its Taylor series to
// r^7 (the first term left out, r^8 / 8!, is under 0.1 ulp there), so the coefficients are exact
// fractions rather than a fitted table. ln 2 is split Cody-Waite style: n * kLn2Hi is exact
// (kLn2Hi has 9 significant bits), so x - n * kLn2Hi is exact and only kLn2Lo's term rounds.
// Below kExpMin (e^x < 1e-38, subnormal) the result is 0: softmax weights that small vanish
// next to the largest, which is 1. Valid for x <= 88 (softmax only ever passes x <= 0).
namespace lane_exp_consts {
constexpr float kLog2e = 1.44269502f;
constexpr float kLn2Hi = 0.693359375f;
constexpr float kLn2Lo = -2.12194442e-4f;
constexpr float kExpMin = -87.5f;  // n >= -126 above it, so 2^n is a normal float
constexpr float kC[] = {1.0f / 5040, 1.0f / 720, 1.0f / 120, 1.0f / 24, 1.0f / 6, 0.5f, 1.0f, 1.0f};
}  // namespace lane_exp_consts

// Before every loop over a tile's registers: GCC keeps an accumulator array in registers only if
// all loops that index it are unrolled; otherwise it stores the whole array every iteration.
#define DSV2_UNROLL _Pragma("GCC unroll 32")

// Calls K::tile<A, B>(args, i, j, tail, extra...) for A <= K::kA, B <= K::kB: a table of every
// tile shape, so edge tiles run the same code with fewer rows or vectors.
template <class K, class Args, int A, int B, class... Extra>
void call_tile(const Args& a, std::int64_t i, std::int64_t j, std::int64_t tail, Extra... e) {
  K::template tile<A, B>(a, i, j, tail, e...);
}

template <class K, class Args, class... Extra, std::size_t... I>
constexpr auto tile_table(std::index_sequence<I...>) {
  using Fn = void (*)(const Args&, std::int64_t, std::int64_t, std::int64_t, Extra...);
  return std::array<Fn, sizeof...(I)>{&call_tile<K, Args, int(I / K::kB) + 1, int(I % K::kB) + 1, Extra...>...};
}

// Splits `count` lanes from `at` into at most kB vectors of kLanes: how many, and how many lanes
// the last one uses.
template <class K>
void lane_vectors(std::int64_t count, std::int64_t at, int* vectors, std::int64_t* tail) {
  const std::int64_t n = count - at < K::kB * K::kLanes ? count - at : K::kB * K::kLanes;
  *vectors = static_cast<int>((n + K::kLanes - 1) / K::kLanes);
  *tail = n - (*vectors - 1) * K::kLanes;
}

// Dots: tiles of kA rows x kB vectors of queries. Rows outer, so a tile's rows stay in L1 while
// every query vector meets them.
template <class K>
void lane_dots_tiled(const LaneDotsArgs& a) {
  static constexpr auto table = tile_table<K, LaneDotsArgs>(std::make_index_sequence<K::kA * K::kB>{});
  for (std::int64_t r0 = 0; r0 < a.nr; r0 += K::kA) {
    const std::int64_t rows = a.nr - r0 < K::kA ? a.nr - r0 : K::kA;
    for (std::int64_t q0 = 0; q0 < a.nq; q0 += K::kB * K::kLanes) {
      int v = 0;
      std::int64_t tail = 0;
      lane_vectors<K>(a.nq, q0, &v, &tail);
      table[static_cast<std::size_t>((rows - 1) * K::kB + v - 1)](a, r0, q0, tail);
    }
  }
}

// Sums: tiles of kA queries x kB vectors of columns. The rows go by in chunks of K::kRowChunk,
// all query tiles meeting one chunk while it is in L1; a tile resumes from the partial sums it
// stored in y, which continues each output's fma chain exactly (the first chunk always runs, so
// nr = 0 writes zeros).
template <class K>
void lane_sums_tiled(const LaneSumsArgs& a) {
  static constexpr auto table = tile_table<K, LaneSumsArgs, bool>(std::make_index_sequence<K::kA * K::kB>{});
  for (std::int64_t c0 = 0; c0 < a.n; c0 += K::kB * K::kLanes) {
    int v = 0;
    std::int64_t tail = 0;
    lane_vectors<K>(a.n, c0, &v, &tail);
    for (std::int64_t r0 = 0; r0 == 0 || r0 < a.nr; r0 += K::kRowChunk) {
      LaneSumsArgs chunk = a;
      chunk.rows += r0 * a.ldr;
      chunk.p += r0 * a.ldp;
      chunk.nr = a.nr - r0 < K::kRowChunk ? a.nr - r0 : K::kRowChunk;
      for (std::int64_t q0 = 0; q0 < a.nq; q0 += K::kA) {
        const std::int64_t qs = a.nq - q0 < K::kA ? a.nq - q0 : K::kA;
        table[static_cast<std::size_t>((qs - 1) * K::kB + v - 1)](chunk, q0, c0, tail, r0 > 0);
      }
    }
  }
}

}  // namespace dsv2::kernels
