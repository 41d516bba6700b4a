// Q8_0: blocks of 32 int8 with one f16 scale. Reference quantizer and scalar kernel (Q16_0
// activations: with 8-bit ones their rounding, not the weights', would dominate the error).
#include <cmath>

#include "kernels/isa_impl.h"
#include "kernels/quant_impl.h"
#include "kernels/tile.h"

namespace dsv2::kernels {

void quantize_row_q8_0(const float* x, std::int64_t n, void* dst) {
  auto* out = static_cast<BlockQ8_0*>(dst);
  for (std::int64_t b = 0; b < n / kQK; ++b, x += kQK) {
    float amax = 0.0f;
    for (int i = 0; i < kQK; ++i) amax = std::fmax(amax, std::fabs(x[i]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    out[b].d = f32_to_f16(d);
    for (int i = 0; i < kQK; ++i) out[b].qs[i] = static_cast<std::int8_t>(round_even(x[i] * id));
  }
}

namespace scalar {

static float dot_q8_0(std::int64_t n, const std::uint8_t* w, const std::uint8_t* x) {
  const auto* wb = reinterpret_cast<const BlockQ8_0*>(w);
  const ActQ16_0Row a = act_q16_0_row(x, n);
  float sum = 0.0f;
  for (std::int64_t b = 0; b < n / kQK; ++b) {
    std::int32_t s = 0;
    for (int i = 0; i < kQK; ++i) s += wb[b].qs[i] * a.qs[b * kQK + i];
    sum += f16_to_f32(wb[b].d) * a.d[b] * static_cast<float>(s);
  }
  return sum;
}

void gemm_q8_0(const GemmArgs& args) { gemm_pairs<dot_q8_0>(args); }

}  // namespace scalar
}  // namespace dsv2::kernels
