// The query-lane kernels and silu_mul (kernels.h) as scalar reference code: each output is the same
// fmas, in the same order, as in every SIMD lane of query_lanes_avx2.cpp / _avx512.cpp, so all
// levels agree bit for bit.
#include <algorithm>
#include <bit>
#include <cmath>

#include "kernels/isa_impl.h"
#include "kernels/query_lanes_impl.h"

namespace dsv2::kernels {

float lane_exp(float x) {
  using namespace lane_exp_consts;
  if (std::isnan(x)) return x;
  if (x < kExpMin) return 0.0f;
  const float n = std::nearbyint(x * kLog2e);
  const float r = std::fma(-n, kLn2Lo, std::fma(-n, kLn2Hi, x));
  float p = kC[0];
  for (std::size_t i = 1; i < std::size(kC); ++i) p = std::fma(p, r, kC[i]);
  return p * std::bit_cast<float>(static_cast<std::uint32_t>(static_cast<std::int32_t>(n) + 127) << 23);
}

namespace scalar {

// Queries (dots) and columns (sums) are taken kChunk at a time so the partial sums of one row
// pass stay in a local array.
constexpr std::int64_t kChunk = 64;

void lane_dots(const LaneDotsArgs& a) {
  for (std::int64_t r = 0; r < a.nr; ++r) {
    const float* row = a.rows + r * a.ldr;
    for (std::int64_t q0 = 0; q0 < a.nq; q0 += kChunk) {
      const std::int64_t nq = a.nq - q0 < kChunk ? a.nq - q0 : kChunk;
      float acc[2][kChunk] = {};  // chains over even and odd d
      for (std::int64_t d = 0; d < a.n; ++d) {
        const float* qt = a.qt + d * a.ldq + q0;
        for (std::int64_t q = 0; q < nq; ++q) acc[d % 2][q] = std::fma(row[d], qt[q], acc[d % 2][q]);
      }
      for (std::int64_t q = 0; q < nq; ++q) a.y[r * a.ldy + q0 + q] = acc[0][q] + acc[1][q];
    }
  }
}

// Per column: scale, max, exp(x - max) summed in row order, times 1 / sum (as ops.h softmax).
void lane_softmax(const LaneSoftmaxArgs& a) {
  for (std::int64_t q = 0; q < a.nq; ++q) {
    float* x = a.x + q;
    float mx = 0.0f;
    for (std::int64_t r = 0; r < a.nr; ++r) {
      const float v = a.scale * x[r * a.ldx];
      x[r * a.ldx] = v;
      mx = r == 0 || v > mx ? v : mx;
    }
    float sum = 0.0f;
    for (std::int64_t r = 0; r < a.nr; ++r) {
      const float e = lane_exp(x[r * a.ldx] - mx);
      x[r * a.ldx] = e;
      sum += e;
    }
    const float inv = 1.0f / sum;
    for (std::int64_t r = 0; r < a.nr; ++r) x[r * a.ldx] *= inv;
  }
}

void silu_mul(float* gate, const float* up, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) {
    const float g = gate[i], e = lane_exp(-std::fabs(g));
    gate[i] = g * ((g >= 0.0f ? 1.0f : e) / (1.0f + e)) * up[i];
  }
}

void lane_sums(const LaneSumsArgs& a) {
  for (std::int64_t q = 0; q < a.nq; ++q) {
    for (std::int64_t c0 = 0; c0 < a.n; c0 += kChunk) {
      const std::int64_t n = a.n - c0 < kChunk ? a.n - c0 : kChunk;
      float acc[kChunk] = {};
      if (a.resume) std::copy(a.y + q * a.ldy + c0, a.y + q * a.ldy + c0 + n, acc);
      for (std::int64_t r = 0; r < a.nr; ++r) {
        const float w = a.p[r * a.ldp + q];
        const float* row = a.rows + r * a.ldr + c0;
        for (std::int64_t c = 0; c < n; ++c) acc[c] = std::fma(w, row[c], acc[c]);
      }
      for (std::int64_t c = 0; c < n; ++c) a.y[q * a.ldy + c0 + c] = acc[c];
    }
  }
}

}  // namespace scalar
}  // namespace dsv2::kernels
