// Element-wise and row-wise float32 operations used between matrix products.
#pragma once
#include <cstdint>

namespace dsv2 {

// out = w * x / sqrt(mean(x^2) + eps); statistics in float32 (the reference does the same).
void rmsnorm(const float* x, const float* w, std::int64_t n, float eps, float* out);
// gate = silu(gate) * up, in place (kernels.h SiluMulFn: the same bits at every ISA level).
void silu_mul(float* gate, const float* up, std::int64_t n);
// In-place softmax with max subtraction.
void softmax(float* x, std::int64_t n);
// y += a * x
void axpy(float a, const float* x, float* y, std::int64_t n);
float dot(const float* a, const float* b, std::int64_t n);
// Rotates adjacent pairs (x[2i], x[2i+1]) by angles with the given cos/sin (n/2 each).
void rope_pairs(float* x, const float* cos, const float* sin, std::int64_t n);

}  // namespace dsv2
