// Scalar kernels for float weights: F32, F16 and BF16 weights all read f32 activations.
#include "kernels/isa_impl.h"
#include "kernels/tile.h"

namespace dsv2::kernels::scalar {

// Double accumulation: this is the reference the SIMD kernels are measured against.
static float dot_f32(std::int64_t n, const std::uint8_t* w, const std::uint8_t* x) {
  const auto* a = reinterpret_cast<const float*>(w);
  const auto* b = reinterpret_cast<const float*>(x);
  double s = 0.0;
  for (std::int64_t i = 0; i < n; ++i) s += static_cast<double>(a[i]) * b[i];
  return static_cast<float>(s);
}

static float dot_f16(std::int64_t n, const std::uint8_t* w, const std::uint8_t* x) {
  const auto* a = reinterpret_cast<const std::uint16_t*>(w);
  const auto* b = reinterpret_cast<const float*>(x);
  double s = 0.0;
  for (std::int64_t i = 0; i < n; ++i) s += static_cast<double>(f16_to_f32(a[i])) * b[i];
  return static_cast<float>(s);
}

static float dot_bf16(std::int64_t n, const std::uint8_t* w, const std::uint8_t* x) {
  const auto* a = reinterpret_cast<const std::uint16_t*>(w);
  const auto* b = reinterpret_cast<const float*>(x);
  double s = 0.0;
  for (std::int64_t i = 0; i < n; ++i) s += static_cast<double>(bf16_to_f32(a[i])) * b[i];
  return static_cast<float>(s);
}

void gemm_f32(const GemmArgs& args) { gemm_pairs<dot_f32>(args); }
void gemm_f16(const GemmArgs& args) { gemm_pairs<dot_f16>(args); }
void gemm_bf16(const GemmArgs& args) { gemm_pairs<dot_bf16>(args); }

}  // namespace dsv2::kernels::scalar
