// Internal: drives a register-tiled micro-kernel over a GemmArgs problem. K supplies kW x kX, the
// largest tile (weight rows x activation rows), and micro<W, X>(args, i, j) for any W <= kW,
// X <= kX; edge tiles use the smaller instantiations. Instantiate only with K from an ISA file's
// anonymous namespace so each instantiation is private to its translation unit.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "kernels/kernels.h"
#include "kernels/prefetch.h"

// Before every loop over a tile's registers: GCC keeps an accumulator array in registers only if
// all loops that index it are unrolled; otherwise it stores the whole array every iteration.
#define DSV2_UNROLL _Pragma("GCC unroll 32")

namespace dsv2::kernels {

template <class K, int W, int X>
void call_micro(const GemmArgs& a, std::int64_t i, std::int64_t j) {
  K::template micro<W, X>(a, i, j);
}

template <class K, std::size_t... I>
constexpr auto micro_table(std::index_sequence<I...>) {
  using Fn = void (*)(const GemmArgs&, std::int64_t, std::int64_t);
  return std::array<Fn, sizeof...(I)>{&call_micro<K, int(I / K::kX) + 1, int(I % K::kX) + 1>...};
}

// Weight tile outer, activation rows inner: a tile of kW weight rows stays in L1 while it meets
// every activation row, so weights are read from memory once per call.
template <class K>
void gemm_tiled(const GemmArgs& a) {
  static constexpr auto table = micro_table<K>(std::make_index_sequence<K::kW * K::kX>{});
  for (std::int64_t i = 0; i < a.nw; i += K::kW) {
    const std::int64_t w = a.nw - i < K::kW ? a.nw - i : K::kW;
    for (std::int64_t j = 0; j < a.nx; j += K::kX) {
      const std::int64_t x = a.nx - j < K::kX ? a.nx - j : K::kX;
      table[static_cast<std::size_t>((w - 1) * K::kX + (x - 1))](a, i, j);
    }
  }
}

// For the row-interleaved layouts (blocks.h): K::micro<X>(args, i, j) computes one group of
// kRowGroup weight rows against X <= K::kX activation rows; this runs it over every group and
// every tile of activation rows.
template <class K, std::size_t... I>
constexpr auto group_micro_table(std::index_sequence<I...>) {
  using Fn = void (*)(const GemmArgs&, std::int64_t, std::int64_t);
  return std::array<Fn, sizeof...(I)>{&K::template micro<int(I) + 1>...};
}

template <class K>
void gemm_row_groups(const GemmArgs& a) {
  static constexpr auto table = group_micro_table<K>(std::make_index_sequence<K::kX>{});
  for (std::int64_t i = 0; i < a.nw; i += kRowGroup)
    for (std::int64_t j = 0; j < a.nx; j += K::kX)
      table[static_cast<std::size_t>((a.nx - j < K::kX ? a.nx - j : K::kX) - 1)](a, i, j);
}

// The cache lines that start in part `part` of `parts` equal byte ranges of [a, a + size):
// line addresses first, first + 64, ... below end. Over all parts, each line that starts inside
// the block comes exactly once.
struct LineSpan {
  std::uintptr_t first, end;
};
constexpr LineSpan part_lines(std::uintptr_t a, std::size_t size, int part, int parts) {
  const std::uintptr_t lo = a + size * static_cast<std::size_t>(part) / static_cast<std::size_t>(parts);
  const std::uintptr_t hi = a + size * static_cast<std::size_t>(part + 1) / static_cast<std::size_t>(parts);
  return {(lo + 63) & ~std::uintptr_t{63}, hi};
}

// Interleaved micro-kernels prefetch ahead of the block they read, into L1 and, further ahead,
// into L2 (or into L2 alone where that streams faster). A group's blocks are one contiguous
// stream, but with ~8 integer dot instructions per 288-byte Q4_0 block the out-of-order window
// holds too few loads to keep memory busy; the hardware prefetchers alone left Lite Q4_0 decode
// (2 threads, AVX-512, Sapphire Rapids) at 16.3 t/s, L1 prefetch alone reached 18.5, both
// 19.2-19.6. How far ahead depends on the CPU and the kernel (prefetch_distances in kernels.h): a
// micro-kernel reads the distances once per call.
// One prefetch per level for each cache line that starts inside the block: blocks are not whole
// lines (288 / 544 bytes), and prefetching at fixed offsets from every block's start requested
// some lines twice (Q8_0 read 10% slower that way on Zen 5).
// With d.page, the line that starts each 4 KiB page also prefetches one line d.page ahead, so
// the page's address translation (a nested page walk in a VM) is done before the L1/L2
// prefetches and loads reach it; the hardware prefetchers stop at page boundaries. On a Zen 5
// VM, 2 threads, 64 KiB ahead: the Q4_0 gemv over Lite's expert matrices 53 -> 63 GB/s, Lite
// decode 30-44% faster (Q4_0, Q8_0). Which kernels use it is per CPU (dispatch.cpp), as is
// d.non_temporal, the hint of the L2 and page prefetches.
// Kernels issue a block's prefetches in parts spread over its compute (prefetch_ahead_part at
// the start of each of n parts), not all at the block's start: on Zen 4 a burst of 36-53
// prefetches per 2.3-3.4 KB K-quant super-block made compute and memory take turns instead of
// overlapping (likely the core's miss buffers filling up). Lite decode, time per token in parts
// against the burst (tokens alternated in one process): Q6_K 0.57, Q5_K 0.56-0.93 (it varied
// with the host; AVX2 0.88), Q8_0 0.96-1.00, Q4_0 0.99, Q4_K 0.98-1.01; a one-thread gemv from
// memory: Q6_K 1.95x, Q5_K 2.2x as fast (docs/benchmarks.md, Zen 4 tenth session).
template <class Block>
inline void prefetch_ahead_part(const Block* blk, int part, int parts, const PrefetchDistances& d) {
  const LineSpan span = part_lines(reinterpret_cast<std::uintptr_t>(blk), sizeof(Block), part, parts);
  for (std::uintptr_t l = span.first; l < span.end; l += 64) {
    const char* p = reinterpret_cast<const char*>(l);
    if (d.l1 != 0) prefetch_l1(p + d.l1);
    prefetch_far(p + d.l2, d.non_temporal);
    if (d.page != 0 && (l & 4095) == 0) prefetch_far(p + d.page, d.non_temporal);
  }
}

// The whole block's prefetches at once (small blocks: a few lines).
template <class Block>
inline void prefetch_ahead(const Block* blk, const PrefetchDistances& d) {
  prefetch_ahead_part(blk, 0, 1, d);
}

// Reference driver: one dot product per (weight row, activation row) pair.
template <float (*Dot)(std::int64_t n, const std::uint8_t* w, const std::uint8_t* x)>
void gemm_pairs(const GemmArgs& a) {
  for (std::int64_t j = 0; j < a.nx; ++j)
    for (std::int64_t i = 0; i < a.nw; ++i)
      a.y[j * a.ldy + i] = Dot(a.n, a.w + i * a.w_stride, a.x + j * a.x_stride);
}

}  // namespace dsv2::kernels
