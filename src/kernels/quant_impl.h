// Internal: per-type weight quantizers / dequantizers (scalar; not on the hot path) and the small
// numeric helpers every kernel file shares.
#pragma once
#include <cmath>
#include <cstdint>

#include "tensor/dtype.h"

namespace dsv2::kernels {

// Round to nearest, ties to even: what cvtps2dq does under the default MXCSR, so scalar and SIMD
// activation quantizers agree bit for bit.
static inline int round_even(float v) { return static_cast<int>(std::nearbyint(v)); }

#define DSV2_DECLARE_QUANT(name)                                              \
  void quantize_row_##name(const float* x, std::int64_t n, void* dst);        \
  void dequantize_row_##name(const void* src, std::int64_t n, float* y);

void quantize_row_q8_0(const float* x, std::int64_t n, void* dst);  // dequantized: dequantize_impl.h
DSV2_DECLARE_QUANT(q4_0)
DSV2_DECLARE_QUANT(q5_0)
DSV2_DECLARE_QUANT(q5_1)
DSV2_DECLARE_QUANT(q4_k)
DSV2_DECLARE_QUANT(q5_k)
DSV2_DECLARE_QUANT(q6_k)
#undef DSV2_DECLARE_QUANT

// Least-squares fit of x ~ scale * q - min over one sub-block, q in [0, nmax], min >= 0 (the
// K-quant formats store mins unsigned and subtract them). Tries a range of candidate scales
// around (max - min) / nmax, refits scale and min for each resulting q and keeps the one with the
// lowest squared error. Writes the chosen q to L.
void fit_scale_min(const float* x, int n, int nmax, float* scale, float* min, std::uint8_t* L);

// Least-squares symmetric fit x ~ scale * q, q in [-nmax, nmax - 1]; returns scale (may be
// negative so the largest magnitude maps to -nmax, using the asymmetric range fully).
float fit_scale_symmetric(const float* x, int n, int nmax);

}  // namespace dsv2::kernels

namespace dsv2::kernels {
// Q4_K / Q5_K super-block: fits the 8 sub-blocks of 32, quantizes their scales and mins to 6 bits
// under f16 super-scales d / dmin, then requantizes x to [0, nmax] with the final scales so the
// stored values match what dequantization will use. L receives the 256 values in order.
void quantize_superblock_k4(const float* x, int nmax, std::uint16_t* d, std::uint16_t* dmin,
                            std::uint8_t* scales, std::uint8_t* L);
// The 6-bit scales and mins of all 8 sub-blocks.
void unpack_scales_k4(const std::uint8_t* scales, std::uint8_t* sc, std::uint8_t* m);

// A Q6_K super-block's 256 values q in [0, 63], in order, to and from its ql / qh bytes.
struct BlockQ6K;
void pack_q6k(const std::uint8_t* L, BlockQ6K& b);
void unpack_q6k(const BlockQ6K& b, std::uint8_t* L);

// Shared by Q4_K and Q5_K once a super-block's 256 values are unpacked to L (in order), with its
// f16 super-scales d, dmin and packed scales: the dequantized values, and the scalar dot product
// with a Q8_K block.
struct BlockQ8K;
void dequantize_superblock_k4(std::uint16_t d, std::uint16_t dmin, const std::uint8_t* scales,
                              const std::uint8_t* L, float* y);
float dot_superblock_k4(std::uint16_t d, std::uint16_t dmin, const std::uint8_t* scales,
                        const std::uint8_t* L, const BlockQ8K& x);
}  // namespace dsv2::kernels
