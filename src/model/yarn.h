// Rotary position embedding for the decoupled rope dims (reference doc §4): base frequencies,
// linear scaling, and YaRN's blend of interpolated and extrapolated frequencies plus m_rope.
#pragma once
#include <cstdint>
#include <vector>

#include "model/config.h"

namespace dsv2 {

class Rope {
 public:
  Rope(const RopeConfig& cfg, std::int64_t rope_dim);

  // cos/sin (rope_dim/2 each) for a position, already multiplied by m_rope.
  void angles(std::int64_t pos, float* cos, float* sin) const;
  const std::vector<float>& inv_freq() const { return inv_freq_; }
  float m_rope() const { return m_rope_; }

 private:
  std::vector<float> inv_freq_;
  float m_rope_ = 1.0f;
  float pos_div_ = 1.0f;  // linear scaling divides positions by the factor
};

}  // namespace dsv2
