// Scalar activation quantizers (the reference every SIMD version must match bit for bit) and
// activation row sizes.
#include <cmath>
#include <cstring>

#include "kernels/act_rows.h"
#include "kernels/isa_impl.h"
#include "kernels/quant_impl.h"

namespace dsv2::kernels {

std::size_t act_row_bytes(ActFormat f, std::int64_t n) {
  std::size_t bytes = 0;
  switch (f) {
    case ActFormat::F32: bytes = static_cast<std::size_t>(n) * 4; break;
    case ActFormat::BF16: bytes = static_cast<std::size_t>(n) * 2; break;
    case ActFormat::Q8_0: bytes = act_q8_0_body_bytes(n); break;
    case ActFormat::Q8_K: bytes = static_cast<std::size_t>(n / kQKK) * sizeof(BlockQ8K); break;
    case ActFormat::Q16_0: bytes = act_q16_0_body_bytes(n); break;
    case ActFormat::Count: break;
  }
  return (bytes + 63) & ~std::size_t{63};
}

namespace scalar {

void quantize_act_bf16(const float* x, std::int64_t n, void* dst) {
  auto* y = static_cast<std::uint16_t*>(dst);
  for (std::int64_t i = 0; i < n; ++i) y[i] = f32_to_bf16(x[i]);
}

namespace {

// The block quantizer act_rows.h asks for: q = round(x * kMax / amax) clamped to +-kMax, scale
// amax / kMax.
struct Block {
  template <class Q, int kMax, int kN>
  static float quantize(const float* x, Q* q, std::int32_t* sums16) {
    float amax = 0.0f;
    for (int i = 0; i < kN; ++i) amax = std::fmax(amax, std::fabs(x[i]));
    const float id = amax > 0.0f ? static_cast<float>(kMax) / amax : 0.0f;
    for (int k = 0; k < kN / 16; ++k) {
      std::int32_t s = 0;
      for (int i = 16 * k; i < 16 * k + 16; ++i) {
        int v = round_even(x[i] * id);
        v = v > kMax ? kMax : (v < -kMax ? -kMax : v);
        q[i] = static_cast<Q>(v);
        s += v;
      }
      if (sums16 != nullptr) sums16[k] = s;
    }
    return amax / static_cast<float>(kMax);
  }
};

}  // namespace

void quantize_act_q8_0(const float* x, std::int64_t n, void* dst) { act_rows_q8_0<Block>(x, n, dst); }
void quantize_act_q16_0(const float* x, std::int64_t n, void* dst) { act_rows_q16_0<Block>(x, n, dst); }
void quantize_act_q8_k(const float* x, std::int64_t n, void* dst) { act_rows_q8_k<Block>(x, n, dst); }

}  // namespace scalar
}  // namespace dsv2::kernels
