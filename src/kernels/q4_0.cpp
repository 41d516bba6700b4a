// Q4_0: blocks of 32 4-bit values with one f16 scale, x = d * (q - 8). Reference quantizer (the
// GGUF rounding: the value of largest magnitude maps to -8) and scalar kernel.
#include <algorithm>
#include <cmath>

#include "kernels/isa_impl.h"
#include "kernels/quant_impl.h"
#include "kernels/tile.h"

namespace dsv2::kernels {

void quantize_row_q4_0(const float* x, std::int64_t n, void* dst) {
  auto* out = static_cast<BlockQ4_0*>(dst);
  for (std::int64_t b = 0; b < n / kQK; ++b, x += kQK) {
    float max = 0.0f, amax = 0.0f;
    for (int i = 0; i < kQK; ++i) {
      if (std::fabs(x[i]) > amax) {
        amax = std::fabs(x[i]);
        max = x[i];
      }
    }
    const float d = max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    out[b].d = f32_to_f16(d);
    for (int i = 0; i < kQK / 2; ++i) {
      // x * id is in [-8, 8]; + 8.5 then truncation rounds to nearest in [0, 16], clamp to 15.
      const int lo = std::min(15, static_cast<int>(x[i] * id + 8.5f));
      const int hi = std::min(15, static_cast<int>(x[i + kQK / 2] * id + 8.5f));
      out[b].qs[i] = static_cast<std::uint8_t>(lo | (hi << 4));
    }
  }
}

void dequantize_row_q4_0(const void* src, std::int64_t n, float* y) {
  const auto* in = static_cast<const BlockQ4_0*>(src);
  for (std::int64_t b = 0; b < n / kQK; ++b, y += kQK) {
    const float d = f16_to_f32(in[b].d);
    for (int i = 0; i < kQK / 2; ++i) {
      y[i] = d * static_cast<float>((in[b].qs[i] & 0xF) - 8);
      y[i + kQK / 2] = d * static_cast<float>((in[b].qs[i] >> 4) - 8);
    }
  }
}

namespace scalar {

static float dot_q4_0(std::int64_t n, const std::uint8_t* w, const std::uint8_t* x) {
  const auto* wb = reinterpret_cast<const BlockQ4_0*>(w);
  const ActQ8_0Row a = act_q8_0_row(x, n);
  float sum = 0.0f;
  for (std::int64_t b = 0; b < n / kQK; ++b) {
    const std::int8_t* q = a.qs + b * kQK;
    std::int32_t s = 0;
    for (int i = 0; i < kQK / 2; ++i)
      s += (wb[b].qs[i] & 0xF) * q[i] + (wb[b].qs[i] >> 4) * q[i + kQK / 2];
    s -= 8 * a.sum[b];  // the "- 8" offset, applied once per block
    sum += f16_to_f32(wb[b].d) * a.d[b] * static_cast<float>(s);
  }
  return sum;
}

void gemm_q4_0(const GemmArgs& args) { gemm_pairs<dot_q4_0>(args); }

}  // namespace scalar
}  // namespace dsv2::kernels
