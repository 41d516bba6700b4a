// Internal: reads bytes as fast as the core can load them and returns their sum, which keeps the
// loads from being optimised away: the machine's read bandwidth, measured with loads as wide as
// the matmul kernels' (a 64-bit scalar loop reads ~half as fast per core as 512-bit loads). One
// template in GCC's portable vector type, instantiated in stream_read.cpp / _avx2.cpp /
// _avx512.cpp so each ISA's flags set the register width.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/kernels.h"
#include "kernels/prefetch.h"

namespace dsv2::kernels {

inline std::uint64_t stream_read_impl(const void* data, std::size_t bytes, PrefetchDistances pf) {
  using V = std::uint64_t __attribute__((vector_size(64)));
  constexpr std::size_t kStep = 4 * sizeof(V);  // four independent accumulators
  const auto* p = static_cast<const std::uint8_t*>(data);
  V a0{}, a1{}, a2{}, a3{};
  std::size_t i = 0;
  for (; i + kStep <= bytes; i += kStep) {
    // Software prefetch, as the interleaved matmul kernels do (tile.h): without any the probe
    // read 15% less than loads can (30.5 vs 35.8 GB/s, 2 threads, Sapphire Rapids), which
    // overstated every roofline share. Which distances read fastest depends on the CPU, so the
    // caller passes them (and keeps the best of several).
    for (std::size_t l = 0; l < kStep; l += 64) {
      if (pf.l1 != 0) prefetch_l1(reinterpret_cast<const char*>(p + i + pf.l1 + l));
      if (pf.l2 != 0) prefetch_far(reinterpret_cast<const char*>(p + i + pf.l2 + l), pf.non_temporal);
    }
    // The page prefetch of tile.h: the one step starting in each page's first kStep bytes.
    if (pf.page != 0 && (reinterpret_cast<std::uintptr_t>(p + i) & 4095) < kStep)
      prefetch_far(reinterpret_cast<const char*>(p + i + pf.page), pf.non_temporal);
    V v0, v1, v2, v3;
    std::memcpy(&v0, p + i, sizeof(V));
    std::memcpy(&v1, p + i + sizeof(V), sizeof(V));
    std::memcpy(&v2, p + i + 2 * sizeof(V), sizeof(V));
    std::memcpy(&v3, p + i + 3 * sizeof(V), sizeof(V));
    a0 += v0, a1 += v1, a2 += v2, a3 += v3;
  }
  const V a = a0 + a1 + a2 + a3;
  std::uint64_t s = 0;
  for (int k = 0; k < 8; ++k) s += a[k];
  for (; i < bytes; ++i) s += p[i];
  return s;
}

}  // namespace dsv2::kernels
