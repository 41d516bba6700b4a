// Scalar activation quantizers (the reference every SIMD version must match bit for bit) and
// activation row sizes.
#include <cmath>
#include <cstring>

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
    case ActFormat::Count: break;
  }
  return (bytes + 63) & ~std::size_t{63};
}

namespace scalar {

void quantize_act_bf16(const float* x, std::int64_t n, void* dst) {
  auto* y = static_cast<std::uint16_t*>(dst);
  for (std::int64_t i = 0; i < n; ++i) y[i] = f32_to_bf16(x[i]);
}

// One block: q = round(x * 127 / amax); returns the scale amax / 127 and the sum of q.
static float quantize_block_q8(const float* x, int n, std::int8_t* q, std::int32_t* sum) {
  float amax = 0.0f;
  for (int i = 0; i < n; ++i) amax = std::fmax(amax, std::fabs(x[i]));
  const float id = amax > 0.0f ? 127.0f / amax : 0.0f;
  std::int32_t s = 0;
  for (int i = 0; i < n; ++i) {
    int v = round_even(x[i] * id);
    v = v > 127 ? 127 : (v < -127 ? -127 : v);
    q[i] = static_cast<std::int8_t>(v);
    s += v;
  }
  *sum = s;
  return amax / 127.0f;
}

void quantize_act_q8_0(const float* x, std::int64_t n, void* dst) {
  auto* qs = static_cast<std::int8_t*>(dst);
  auto* d = reinterpret_cast<float*>(qs + n);
  auto* sum = reinterpret_cast<std::int32_t*>(d + n / kQK);
  for (std::int64_t b = 0; b < n / kQK; ++b)
    d[b] = quantize_block_q8(x + b * kQK, kQK, qs + b * kQK, &sum[b]);
}

void quantize_act_q8_k(const float* x, std::int64_t n, void* dst) {
  auto* blocks = static_cast<BlockQ8K*>(dst);
  for (std::int64_t b = 0; b < n / kQKK; ++b) {
    BlockQ8K& o = blocks[b];
    std::int32_t unused;
    o.d = quantize_block_q8(x + b * kQKK, kQKK, o.qs, &unused);
    for (int k = 0; k < kQKK / 16; ++k) {
      int s = 0;
      for (int i = 0; i < 16; ++i) s += o.qs[16 * k + i];
      o.bsums[k] = static_cast<std::int16_t>(s);
    }
  }
}

}  // namespace scalar
}  // namespace dsv2::kernels
