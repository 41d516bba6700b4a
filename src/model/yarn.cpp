#include "model/yarn.h"

#include <algorithm>
#include <cmath>

namespace dsv2 {

namespace {

// The rope dimension at which a wavelength completes `rotations` turns over the original context.
double yarn_correction_dim(double rotations, double dim, double base, double max_pos) {
  return dim * std::log(max_pos / (rotations * 2.0 * M_PI)) / (2.0 * std::log(base));
}

}  // namespace

Rope::Rope(const RopeConfig& cfg, std::int64_t rope_dim) {
  const std::int64_t half = rope_dim / 2;
  const float base = static_cast<float>(cfg.theta);
  const float dim = static_cast<float>(rope_dim);
  inv_freq_.resize(static_cast<std::size_t>(half));
  // The reference computes these in float32 tensors; mirror that to match its rounding.
  std::vector<float> extra(half), inter(half);
  for (std::int64_t i = 0; i < half; ++i) {
    const float p = std::pow(base, static_cast<float>(2 * i) / dim);
    extra[i] = 1.0f / p;
    inter[i] = 1.0f / (static_cast<float>(cfg.factor) * p);
  }
  if (cfg.scaling != RopeScaling::Yarn) {
    inv_freq_ = extra;
    if (cfg.scaling == RopeScaling::Linear) pos_div_ = static_cast<float>(cfg.factor);
    return;
  }
  const double L0 = static_cast<double>(cfg.original_max_position);
  double low = std::floor(yarn_correction_dim(cfg.beta_fast, rope_dim, cfg.theta, L0));
  double high = std::ceil(yarn_correction_dim(cfg.beta_slow, rope_dim, cfg.theta, L0));
  low = std::max(low, 0.0);
  high = std::min(high, static_cast<double>(rope_dim - 1));
  if (low == high) high += 0.001;
  for (std::int64_t i = 0; i < half; ++i) {
    float ramp = (static_cast<float>(i) - static_cast<float>(low)) / static_cast<float>(high - low);
    ramp = std::clamp(ramp, 0.0f, 1.0f);
    // mask = 1 - ramp weights the extrapolated (unscaled) frequency.
    const float mask = 1.0f - ramp;
    inv_freq_[i] = inter[i] * (1.0f - mask) + extra[i] * mask;
  }
  m_rope_ = static_cast<float>(yarn_get_mscale(cfg.factor, cfg.mscale) /
                               yarn_get_mscale(cfg.factor, cfg.mscale_all_dim));
}

void Rope::angles(std::int64_t pos, float* cos, float* sin) const {
  const float t = static_cast<float>(pos) / pos_div_;
  for (std::size_t i = 0; i < inv_freq_.size(); ++i) {
    const float a = t * inv_freq_[i];
    cos[i] = std::cos(a) * m_rope_;
    sin[i] = std::sin(a) * m_rope_;
  }
}

}  // namespace dsv2
