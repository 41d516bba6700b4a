// Products of nq query vectors with rows of floats, the queries held one per SIMD lane (see
// kernels.h, LaneDotsArgs, for the exact formulas): dots of every row with every query, a softmax
// down each query's column of those, and weighted sums of the rows per query. Each output is
// computed by fma in one fixed order, the same at every ISA, so results do not depend on how the
// rows, queries or columns are split between calls. Single-threaded: callers split the work.
#pragma once
#include <cstdint>

#include "kernels/kernels.h"

namespace dsv2 {

// y[r * ldy + q] = Σ_{d < n} rows[r * ldr + d] * qt[d * ldq + q], r < nr, q < nq.
inline void lane_dots(const float* rows, std::int64_t ldr, std::int64_t nr, std::int64_t n, const float* qt,
                      std::int64_t ldq, std::int64_t nq, float* y, std::int64_t ldy) {
  kernels::active_kernels().lane_dots({rows, ldr, nr, n, qt, ldq, nq, y, ldy});
}

// Column q < nq of x (rows r < nr at x[r * ldx + q]) becomes softmax(scale * column).
inline void lane_softmax(float* x, std::int64_t ldx, std::int64_t nr, std::int64_t nq, float scale) {
  kernels::active_kernels().lane_softmax({x, ldx, nr, nq, scale});
}

// y[q * ldy + c] = Σ_{r < nr} p[r * ldp + q] * rows[r * ldr + c], q < nq, c < n; resume: y holds
// the sums over earlier rows and continues from them, exactly as if one call had seen them all.
inline void lane_sums(const float* rows, std::int64_t ldr, std::int64_t nr, std::int64_t n, const float* p,
                      std::int64_t ldp, std::int64_t nq, float* y, std::int64_t ldy, bool resume = false) {
  kernels::active_kernels().lane_sums({rows, ldr, nr, n, p, ldp, nq, y, ldy, resume});
}

}  // namespace dsv2
