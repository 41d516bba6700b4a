// Internal: the row layouts of the blockwise activation formats (blocks.h), written once around
// each ISA's block quantizer B: B::template quantize<Q, kMax, kN>(x, qs, sums16) rounds kN floats
// to Q in [-kMax, kMax] under one scale, which it returns, and unless sums16 is null stores the
// sum of every 16 values. Instantiate only with B from an ISA file's anonymous namespace, so each
// instantiation is private to its translation unit (built with that ISA's -m flags).
#pragma once
#include <cstdint>

#include "kernels/blocks.h"

namespace dsv2::kernels {

template <class B>
void act_rows_q8_0(const float* x, std::int64_t n, void* dst) {
  auto* qs = static_cast<std::int8_t*>(dst);
  auto* d = reinterpret_cast<float*>(qs + n);
  auto* sum = reinterpret_cast<std::int32_t*>(d + n / kQK);
  for (std::int64_t b = 0; b < n / kQK; ++b) {
    std::int32_t s[2];
    d[b] = B::template quantize<std::int8_t, 127, kQK>(x + b * kQK, qs + b * kQK, s);
    sum[b] = s[0] + s[1];
  }
}

template <class B>
void act_rows_q16_0(const float* x, std::int64_t n, void* dst) {
  auto* qs = static_cast<std::int16_t*>(dst);
  auto* d = reinterpret_cast<float*>(qs + n);
  for (std::int64_t b = 0; b < n / kQK; ++b)
    d[b] = B::template quantize<std::int16_t, 32767, kQK>(x + b * kQK, qs + b * kQK, nullptr);
}

template <class B>
void act_rows_q8_k(const float* x, std::int64_t n, void* dst) {
  auto* blocks = static_cast<BlockQ8K*>(dst);
  for (std::int64_t b = 0; b < n / kQKK; ++b) {
    std::int32_t s[kQKK / 16];
    blocks[b].d = B::template quantize<std::int8_t, 127, kQKK>(x + b * kQKK, blocks[b].qs, s);
    for (int k = 0; k < kQKK / 16; ++k) blocks[b].bsums[k] = static_cast<std::int16_t>(s[k]);
  }
}

}  // namespace dsv2::kernels
