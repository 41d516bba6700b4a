// Scale searches shared by the K-quant reference quantizers.
#include <cmath>
#include <algorithm>
#include <cstring>
#include <limits>

#include "kernels/blocks.h"
#include "kernels/quant_impl.h"

namespace dsv2::kernels {

namespace {
// Candidate inverse scales are (nmax + kStep * t) / range for t in [-kTries, kTries]: stretching
// or shrinking the grid a little often lands more values near a level than the plain min-max fit.
constexpr int kTries = 10;
constexpr float kStep = 0.1f;
}  // namespace

void fit_scale_min(const float* x, int n, int nmax, float* scale, float* min, std::uint8_t* L) {
  float lo = x[0], hi = x[0];
  for (int i = 1; i < n; ++i) {
    lo = std::fmin(lo, x[i]);
    hi = std::fmax(hi, x[i]);
  }
  lo = std::fmin(lo, 0.0f);  // the offset is -min with min >= 0, so the grid must reach <= 0
  if (hi <= lo) {            // constant non-positive data: all of it is the offset
    std::memset(L, 0, static_cast<std::size_t>(n));
    *scale = 0.0f;
    *min = -lo;
    return;
  }
  float best_err = std::numeric_limits<float>::infinity();
  std::uint8_t q[kQKK];
  for (int t = -kTries; t <= kTries; ++t) {
    const float iscale = (static_cast<float>(nmax) + kStep * static_cast<float>(t)) / (hi - lo);
    float sq = 0, sqq = 0, sx = 0, sqx = 0;
    for (int i = 0; i < n; ++i) {
      const int v = std::clamp(round_even((x[i] - lo) * iscale), 0, nmax);
      q[i] = static_cast<std::uint8_t>(v);
      sq += static_cast<float>(v);
      sqq += static_cast<float>(v * v);
      sx += x[i];
      sqx += static_cast<float>(v) * x[i];
    }
    // Least squares for x ~ a * q + b, then clamp b <= 0 (and refit a) as the format requires.
    // When all q are equal (det = 0) only the scale is determined: fit it with b = 0.
    const float det = static_cast<float>(n) * sqq - sq * sq;
    float a = det > 0.0f ? (static_cast<float>(n) * sqx - sq * sx) / det : 0.0f;
    float b = det > 0.0f ? (sqq * sx - sq * sqx) / det : 1.0f;
    if (b > 0.0f) {
      b = 0.0f;
      a = sqq > 0.0f ? sqx / sqq : 0.0f;
    }
    a = std::fmax(a, 0.0f);
    float err = 0.0f;
    for (int i = 0; i < n; ++i) {
      const float e = a * static_cast<float>(q[i]) + b - x[i];
      err += e * e;
    }
    if (err < best_err) {
      best_err = err;
      *scale = a;
      *min = -b;
      std::memcpy(L, q, static_cast<std::size_t>(n));
    }
  }
  if (best_err == std::numeric_limits<float>::infinity()) {  // every candidate degenerate
    std::memset(L, 0, static_cast<std::size_t>(n));
    *scale = 0.0f;
    *min = -lo;
  }
}

float fit_scale_symmetric(const float* x, int n, int nmax) {
  float max = 0.0f, amax = 0.0f;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      max = x[i];
    }
  }
  if (amax == 0.0f) return 0.0f;
  // Maximise (sum q x)^2 / sum q^2, i.e. minimise the error of the best scale for that q.
  float best = -1.0f, scale = 0.0f;
  for (int t = -kTries; t <= kTries; ++t) {
    const float iscale = -(static_cast<float>(nmax) + kStep * static_cast<float>(t)) / max;
    float sqx = 0.0f, sqq = 0.0f;
    for (int i = 0; i < n; ++i) {
      const int v = std::clamp(round_even(x[i] * iscale), -nmax, nmax - 1);
      sqx += static_cast<float>(v) * x[i];
      sqq += static_cast<float>(v * v);
    }
    if (sqq > 0.0f && sqx * sqx / sqq > best) {
      best = sqx * sqx / sqq;
      scale = sqx / sqq;
    }
  }
  return scale;
}

}  // namespace dsv2::kernels
