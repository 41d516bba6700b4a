// Q5_0 and Q5_1: blocks of 32 5-bit values, x = d * (q - 16) and x = d * q + m (blocks.h).
// llama.cpp writes them where a K-quant does not fit a row (Q4_K -> Q5_0, Q5_K -> Q5_1), so
// common Q4_K_M / Q5_K_M files of DeepSeek-V2-Lite hold them. Reference quantizers with the
// GGUF rounding, and the scalar kernels (Q8_0 activations, whose block sums carry the offsets).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/isa_impl.h"
#include "kernels/quant_impl.h"
#include "kernels/tile.h"

namespace dsv2::kernels {

namespace {

// Packs 32 values q in [0, 31] into qs (low 4 bits, Q4_0's order) and qh (bit 4 of value j at j).
template <class Block>
void pack5(const int* q, Block& b) {
  std::uint32_t qh = 0;
  for (int i = 0; i < kQK / 2; ++i) {
    b.qs[i] = static_cast<std::uint8_t>((q[i] & 0xF) | (q[i + kQK / 2] & 0xF) << 4);
    qh |= static_cast<std::uint32_t>(q[i] >> 4) << i | static_cast<std::uint32_t>(q[i + kQK / 2] >> 4) << (i + kQK / 2);
  }
  std::memcpy(b.qh, &qh, 4);
}

template <class Block>
void unpack5(const Block& b, int* q) {
  std::uint32_t qh;
  std::memcpy(&qh, b.qh, 4);
  for (int i = 0; i < kQK / 2; ++i) {
    q[i] = (b.qs[i] & 0xF) | static_cast<int>((qh >> i) & 1) << 4;
    q[i + kQK / 2] = (b.qs[i] >> 4) | static_cast<int>((qh >> (i + kQK / 2)) & 1) << 4;
  }
}

}  // namespace

void quantize_row_q5_0(const float* x, std::int64_t n, void* dst) {
  auto* out = static_cast<BlockQ5_0*>(dst);
  for (std::int64_t b = 0; b < n / kQK; ++b, x += kQK) {
    float max = 0.0f, amax = 0.0f;
    for (int i = 0; i < kQK; ++i) {
      if (std::fabs(x[i]) > amax) amax = std::fabs(x[i]), max = x[i];
    }
    const float d = max / -16.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    out[b].d = f32_to_f16(d);
    int q[kQK];  // x * id in [-16, 16]; + 16.5 then truncation rounds to nearest, clamp to 31
    for (int i = 0; i < kQK; ++i) q[i] = std::min(31, static_cast<int>(x[i] * id + 16.5f));
    pack5(q, out[b]);
  }
}

void quantize_row_q5_1(const float* x, std::int64_t n, void* dst) {
  auto* out = static_cast<BlockQ5_1*>(dst);
  for (std::int64_t b = 0; b < n / kQK; ++b, x += kQK) {
    const auto [lo, hi] = std::minmax_element(x, x + kQK);
    const float d = (*hi - *lo) / 31.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    out[b].d = f32_to_f16(d);
    out[b].m = f32_to_f16(*lo);
    int q[kQK];  // (x - min) * id in [0, 31]; + 0.5 then truncation rounds to nearest
    for (int i = 0; i < kQK; ++i) q[i] = std::min(31, static_cast<int>((x[i] - *lo) * id + 0.5f));
    pack5(q, out[b]);
  }
}

void dequantize_row_q5_0(const void* src, std::int64_t n, float* y) {
  const auto* in = static_cast<const BlockQ5_0*>(src);
  for (std::int64_t b = 0; b < n / kQK; ++b, y += kQK) {
    int q[kQK];
    unpack5(in[b], q);
    const float d = f16_to_f32(in[b].d);
    for (int i = 0; i < kQK; ++i) y[i] = d * static_cast<float>(q[i] - 16);
  }
}

void dequantize_row_q5_1(const void* src, std::int64_t n, float* y) {
  const auto* in = static_cast<const BlockQ5_1*>(src);
  for (std::int64_t b = 0; b < n / kQK; ++b, y += kQK) {
    int q[kQK];
    unpack5(in[b], q);
    const float d = f16_to_f32(in[b].d), m = f16_to_f32(in[b].m);
    for (int i = 0; i < kQK; ++i) y[i] = d * static_cast<float>(q[i]) + m;
  }
}

namespace scalar {

namespace {

// Per block: s = sum q_w * q_x (Q5_0: minus 16 * sum q_x, the offset applied once), then
// d_w * d_x * s (+ m_w * d_x * sum q_x for Q5_1).
template <class Block>
float dot_q5(std::int64_t n, const std::uint8_t* w, const std::uint8_t* x) {
  constexpr bool kMin = std::is_same_v<Block, BlockQ5_1>;
  const auto* wb = reinterpret_cast<const Block*>(w);
  const ActQ8_0Row a = act_q8_0_row(x, n);
  float sum = 0.0f;
  for (std::int64_t b = 0; b < n / kQK; ++b) {
    int q[kQK];
    unpack5(wb[b], q);
    std::int32_t s = 0;
    for (int i = 0; i < kQK; ++i) s += q[i] * a.qs[b * kQK + i];
    if constexpr (kMin) {
      sum += f16_to_f32(wb[b].d) * a.d[b] * static_cast<float>(s) + f16_to_f32(wb[b].m) * a.d[b] * static_cast<float>(a.sum[b]);
    } else {
      s -= 16 * a.sum[b];
      sum += f16_to_f32(wb[b].d) * a.d[b] * static_cast<float>(s);
    }
  }
  return sum;
}

}  // namespace

void gemm_q5_0(const GemmArgs& args) { gemm_pairs<dot_q5<BlockQ5_0>>(args); }
void gemm_q5_1(const GemmArgs& args) { gemm_pairs<dot_q5<BlockQ5_1>>(args); }

}  // namespace scalar
}  // namespace dsv2::kernels
