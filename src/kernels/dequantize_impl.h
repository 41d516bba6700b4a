// Internal: rows of the KV cache's stored types back to floats (kernels.h,
// TypeKernels::dequantize_rows), written once as plain loops and compiled for every level
// (dequantize.cpp, _avx2.cpp, _avx512.cpp), where the compiler vectorises them. Attention reads
// a bf16 or q8_0 cache through these a piece at a time (model/mla.cpp), so they must keep up
// with its kernels. Both conversions are exact (bf16 is the top half of an f32; q8_0 one
// multiply per value), so every level gives the same floats. Internal linkage: each level's
// copy stays in its own translation unit.
#pragma once
#include <bit>
#include <cstdint>

#if defined(__F16C__)
#include <immintrin.h>
#endif

#include "kernels/blocks.h"
#include "kernels/kernels.h"
#include "kernels/prefetch.h"
#include "tensor/dtype.h"

namespace dsv2::kernels {
namespace {

// The block scale: one instruction where the level has F16C (AVX2, AVX-512), else the reference
// conversion (a function call per block, which cost q8_0 more than the values did). Both exact.
inline float scale_to_f32(std::uint16_t h) {
#if defined(__F16C__)
  return _cvtsh_ss(h);
#else
  return f16_to_f32(h);
#endif
}

inline void dequantize_bf16_impl(const void* src, std::int64_t n, float* dst) {
  const auto* h = static_cast<const std::uint16_t*>(src);
  for (std::int64_t i = 0; i < n; ++i) dst[i] = std::bit_cast<float>(static_cast<std::uint32_t>(h[i]) << 16);
}

inline void dequantize_q8_0_impl(const void* src, std::int64_t n, float* dst) {
  const auto* in = static_cast<const BlockQ8_0*>(src);
  for (std::int64_t b = 0; b < n / kQK; ++b) {
    const float d = scale_to_f32(in[b].d);
    for (int i = 0; i < kQK; ++i) dst[b * kQK + i] = d * static_cast<float>(in[b].qs[i]);
  }
}

// Rows [0, rows) of a matrix (row stride `stride` bytes), n values each, to dst (row stride ldd)
// by `row`; each row's bytes first prefetch the row `rows` further on, so a caller walking down
// the matrix a piece at a time finds the next piece on its way (the attention kernels prefetch
// the same way, query_lanes_impl.h).
template <class Row>
inline void dequantize_rows_impl(Row row, std::size_t row_bytes, const DequantizeRowsArgs& a) {
  const auto* src = static_cast<const std::uint8_t*>(a.src);
  for (std::int64_t r = 0; r < a.rows; ++r) {
    const std::uint8_t* next = src + static_cast<std::size_t>(r + a.rows) * a.stride;
    for (std::size_t o = 0; o < row_bytes; o += 64) prefetch_far(reinterpret_cast<const char*>(next + o), false);
    row(src + static_cast<std::size_t>(r) * a.stride, a.n, a.dst + r * a.ldd);
  }
}

}  // namespace
}  // namespace dsv2::kernels

// The level's entry points (isa_impl.h), expanded inside its namespace by each level's file.
#define DSV2_DEQUANTIZE_ENTRY_POINTS                                                                  \
  void dequantize_rows_bf16(const DequantizeRowsArgs& a) {                                             \
    dequantize_rows_impl(dequantize_bf16_impl, static_cast<std::size_t>(a.n) * 2, a);                  \
  }                                                                                                     \
  void dequantize_rows_q8_0(const DequantizeRowsArgs& a) {                                             \
    dequantize_rows_impl(dequantize_q8_0_impl, static_cast<std::size_t>(a.n / kQK) * sizeof(BlockQ8_0), a); \
  }
