// Q6_K: 256-value super-blocks of 16 sub-blocks with int8 scales, x = d * sc * (q - 32).
// Reference quantizer, dequantizer and scalar kernel.
#include <algorithm>
#include <cmath>

#include "kernels/isa_impl.h"
#include "kernels/quant_impl.h"
#include "kernels/tile.h"

namespace dsv2::kernels {

void pack_q6k(const std::uint8_t* L, BlockQ6K& b) {
  for (int h = 0; h < 2; ++h) {
    const std::uint8_t* q = L + 128 * h;
    for (int l = 0; l < 32; ++l) {
      b.ql[64 * h + l] = static_cast<std::uint8_t>((q[l] & 0xF) | ((q[64 + l] & 0xF) << 4));
      b.ql[64 * h + 32 + l] = static_cast<std::uint8_t>((q[32 + l] & 0xF) | ((q[96 + l] & 0xF) << 4));
      b.qh[32 * h + l] = static_cast<std::uint8_t>((q[l] >> 4) | ((q[32 + l] >> 4) << 2) |
                                                   ((q[64 + l] >> 4) << 4) | ((q[96 + l] >> 4) << 6));
    }
  }
}

void unpack_q6k(const BlockQ6K& b, std::uint8_t* L) {
  for (int h = 0; h < 2; ++h) {
    for (int k = 0; k < 4; ++k) {
      for (int l = 0; l < 32; ++l) {
        const std::uint8_t byte = b.ql[64 * h + 32 * (k & 1) + l];
        const int lo = k < 2 ? byte & 0xF : byte >> 4;
        const int hi = (b.qh[32 * h + l] >> (2 * k)) & 3;
        L[128 * h + 32 * k + l] = static_cast<std::uint8_t>(lo | (hi << 4));
      }
    }
  }
}

void quantize_row_q6_k(const float* x, std::int64_t n, void* dst) {
  auto* out = static_cast<BlockQ6K*>(dst);
  for (std::int64_t b = 0; b < n / kQKK; ++b, x += kQKK) {
    float sc[16], max = 0.0f;
    for (int k = 0; k < 16; ++k) {
      sc[k] = fit_scale_symmetric(x + 16 * k, 16, 32);
      if (std::fabs(sc[k]) > std::fabs(max)) max = sc[k];
    }
    // The largest sub-block scale maps to -128 so the int8 scale range is used in full.
    const float iscale = max != 0.0f ? -128.0f / max : 0.0f;
    out[b].d = f32_to_f16(max != 0.0f ? 1.0f / iscale : 0.0f);
    const float d = f16_to_f32(out[b].d);
    std::uint8_t L[kQKK];
    for (int k = 0; k < 16; ++k) {
      out[b].scales[k] = static_cast<std::int8_t>(std::min(127, round_even(iscale * sc[k])));
      const float s = d * out[b].scales[k];
      for (int i = 16 * k; i < 16 * k + 16; ++i) {
        const int v = s != 0.0f ? std::clamp(round_even(x[i] / s), -32, 31) : 0;
        L[i] = static_cast<std::uint8_t>(v + 32);
      }
    }
    pack_q6k(L, out[b]);
  }
}

void dequantize_row_q6_k(const void* src, std::int64_t n, float* y) {
  const auto* in = static_cast<const BlockQ6K*>(src);
  for (std::int64_t b = 0; b < n / kQKK; ++b, y += kQKK) {
    std::uint8_t L[kQKK];
    unpack_q6k(in[b], L);
    const float d = f16_to_f32(in[b].d);
    for (int i = 0; i < kQKK; ++i) y[i] = d * in[b].scales[i / 16] * (L[i] - 32);
  }
}

namespace scalar {

static float dot_q6_k(std::int64_t n, const std::uint8_t* w, const std::uint8_t* x) {
  const auto* wb = reinterpret_cast<const BlockQ6K*>(w);
  const auto* xb = reinterpret_cast<const BlockQ8K*>(x);
  float sum = 0.0f;
  for (std::int64_t b = 0; b < n / kQKK; ++b) {
    std::uint8_t L[kQKK];
    unpack_q6k(wb[b], L);
    std::int32_t isum = 0;
    for (int k = 0; k < 16; ++k) {
      std::int32_t s = 0;
      for (int i = 16 * k; i < 16 * k + 16; ++i) s += L[i] * xb[b].qs[i];
      isum += wb[b].scales[k] * (s - 32 * xb[b].bsums[k]);  // the "- 32" offset via the sums
    }
    sum += xb[b].d * f16_to_f32(wb[b].d) * static_cast<float>(isum);
  }
  return sum;
}

void gemm_q6_k(const GemmArgs& args) { gemm_pairs<dot_q6_k>(args); }

}  // namespace scalar
}  // namespace dsv2::kernels
