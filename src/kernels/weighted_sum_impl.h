// Internal: the weighted row sum y[q, :n] += Σ_r p[q, r] · v[r, :], over rows of kSumCols floats.
// One template, instantiated in weighted_sum.cpp / _avx2.cpp / _avx512.cpp so the compiler
// vectorises it for each ISA: the kSumCols accumulators of one q stay in registers across all
// rows, so y is read and written once per q, not once per row.
#pragma once
#include <cstdint>

#include "kernels/kernels.h"

namespace dsv2::kernels {

inline void weighted_sum_impl(const WeightedSumArgs& a) {
  for (std::int64_t q = 0; q < a.nq; ++q) {
    float acc[kSumCols] = {};
    const float* p = a.p + q * a.ldp;
    for (std::int64_t r = 0; r < a.nr; ++r) {
      const float w = p[r];
      const float* v = a.v + r * kSumCols;
      for (int c = 0; c < kSumCols; ++c) acc[c] += w * v[c];
    }
    float* y = a.y + q * a.ldy;
    for (std::int64_t c = 0; c < a.n; ++c) y[c] += acc[c];
  }
}

}  // namespace dsv2::kernels
