#include "kernels/ops.h"

#include "kernels/kernels.h"

#include <cmath>

namespace dsv2 {

// The sum of squares by dot's partial sums: one serial sum over a 2048-wide hidden row waits on
// the add latency 2048 times (~2.7 us on one Zen 5 core, four norms per decode layer).
void rmsnorm(const float* x, const float* w, std::int64_t n, float eps, float* out) {
  const float ss = dot(x, x, n);
  const float inv = 1.0f / std::sqrt(ss / static_cast<float>(n) + eps);
  for (std::int64_t i = 0; i < n; ++i) out[i] = w[i] * (x[i] * inv);
}

void silu_mul(float* gate, const float* up, std::int64_t n) { kernels::active_kernels().silu_mul(gate, up, n); }

void softmax(float* x, std::int64_t n) {
  float mx = x[0];
  for (std::int64_t i = 1; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  float sum = 0.0f;
  for (std::int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  const float inv = 1.0f / sum;
  for (std::int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void axpy(float a, const float* x, float* y, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

// 16 independent partial sums: the compiler keeps them in vector registers, where one serial
// sum would wait on the add latency for every element (attention runs this over the cache).
// The summation order depends only on n, so results are reproducible.
float dot(const float* a, const float* b, std::int64_t n) {
  constexpr int kLanes = 16;
  float acc[kLanes] = {};
  std::int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) acc[j] += a[i + j] * b[i + j];
  for (; i < n; ++i) acc[0] += a[i] * b[i];
  for (int w = kLanes / 2; w > 0; w /= 2)
    for (int j = 0; j < w; ++j) acc[j] += acc[j + w];
  return acc[0];
}

void rope_pairs(float* x, const float* cos, const float* sin, std::int64_t n) {
  for (std::int64_t i = 0; i < n / 2; ++i) {
    const float a = x[2 * i], b = x[2 * i + 1];
    x[2 * i] = a * cos[i] - b * sin[i];
    x[2 * i + 1] = b * cos[i] + a * sin[i];
  }
}

}  // namespace dsv2
