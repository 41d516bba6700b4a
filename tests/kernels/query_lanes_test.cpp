// The query-lane kernels (LaneDots, LaneSoftmax, LaneSums) and SiluMul, which shares their exp:
// the scalar reference against double precision, every SIMD level bit for bit against it over
// all tile shapes and tails, results independent of how rows, queries and columns are split
// between calls, and lane_exp's accuracy.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>

#include "test_util.h"

namespace dsv2::kernels {
namespace {

constexpr float kSentinel = -12345.0f;  // in y's padding, which kernels must not write

// Query counts: below, at and above the lanes of both SIMD levels and their tile widths; the
// models' head counts (2, 4, 6, 16, 128) among them.
const std::int64_t kQueryCounts[] = {1, 2, 4, 6, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 48, 64, 100, 128};

// nr rows of n floats (stride ldr) and the query side, q (stride ldq): dots take it transposed,
// n x nq; sums take one weight per row and query, nr x nq. y rows (stride ldy) have padding past
// the outputs, which must keep the sentinel.
enum class Kind { Dots, Sums };
struct Problem {
  std::int64_t nr, n, nq, ldr, ldq, ldy;
  std::vector<float> rows, q;
};

Problem make_problem(Kind k, std::int64_t nr, std::int64_t n, std::int64_t nq, std::uint32_t seed) {
  Problem p{nr, n, nq, n + 3, nq + 5, (k == Kind::Dots ? nq : n) + 2, {}, {}};
  p.rows = test::random_floats(static_cast<std::size_t>(nr * p.ldr), seed);
  p.q = test::random_floats(static_cast<std::size_t>((k == Kind::Dots ? n : nr) * p.ldq), seed + 1);
  return p;
}

std::vector<float> dots(const KernelSet& ks, const Problem& p) {
  std::vector<float> y(static_cast<std::size_t>(p.nr * p.ldy), kSentinel);
  ks.lane_dots({p.rows.data(), p.ldr, p.nr, p.n, p.q.data(), p.ldq, p.nq, y.data(), p.ldy});
  return y;
}

std::vector<const KernelSet*> simd_sets() {
  std::vector<const KernelSet*> sets;
  for (Isa isa : {Isa::Avx2, Isa::Avx512})
    if (isa_supported(isa)) sets.push_back(&kernel_set(isa));
  return sets;
}

// y[i * ldy + j] for i < rows: j < cols within float rounding of the double sum over k < n of
// term(i, j, k), j >= cols untouched (the sentinel).
template <class Term>
void expect_double_sums(const std::vector<float>& y, std::int64_t rows, std::int64_t cols, std::int64_t ldy,
                        std::int64_t n, Term term) {
  for (std::int64_t i = 0; i < rows; ++i) {
    for (std::int64_t j = 0; j < ldy; ++j) {
      const float got = y[i * ldy + j];
      if (j >= cols) {
        ASSERT_EQ(got, kSentinel) << "padding written at " << i << ", " << j;
        continue;
      }
      double want = 0.0, mag = 0.0;
      for (std::int64_t k = 0; k < n; ++k) {
        want += term(i, j, k);
        mag += std::fabs(term(i, j, k));
      }
      ASSERT_NEAR(got, want, static_cast<double>(n) * std::ldexp(mag, -24)) << "output " << i << ", " << j;
    }
  }
}

TEST(LaneDots, ScalarMatchesDoublePrecision) {
  const Problem p = make_problem(Kind::Dots, 5, 203, 17, 1);
  expect_double_sums(dots(kernel_set(Isa::Scalar), p), p.nr, p.nq, p.ldy, p.n, [&](auto r, auto q, auto d) {
    return static_cast<double>(p.rows[r * p.ldr + d]) * p.q[d * p.ldq + q];
  });
}

TEST(LaneDots, SimdIsBitIdenticalToScalarForEveryShape) {
  const KernelSet& ref = kernel_set(Isa::Scalar);
  for (const KernelSet* simd : simd_sets()) {
    for (std::int64_t nq : kQueryCounts) {
      for (std::int64_t n : {1, 5, 56, 576}) {
        const Problem p = make_problem(Kind::Dots, 19, n, nq, static_cast<std::uint32_t>(nq * 1000 + n));
        for (std::int64_t nr = 1; nr <= p.nr; ++nr) {
          Problem q = p;
          q.nr = nr;
          ASSERT_EQ(dots(ref, q), dots(*simd, q)) << isa_name(simd->isa) << " nr=" << nr << " n=" << n << " nq=" << nq;
        }
      }
    }
  }
}

// Any split of rows or queries between calls gives the same bits: what makes attention scores
// independent of batching and prompt chunking.
TEST(LaneDots, SplittingRowsOrQueriesChangesNothing) {
  for (Isa isa : test::supported_levels()) {
    const KernelSet& ks = kernel_set(isa);
    const Problem p = make_problem(Kind::Dots, 23, 576, 40, 7);
    const std::vector<float> whole = dots(ks, p);
    std::vector<float> parts(whole.size(), kSentinel);
    for (std::int64_t r0 : {0, 3, 11, 12}) {  // rows [0,3) [3,11) [11,12) [12,23)
      const std::int64_t r1 = r0 == 0 ? 3 : r0 == 3 ? 11 : r0 == 11 ? 12 : p.nr;
      for (std::int64_t q0 : {0, 9, 25}) {    // queries [0,9) [9,25) [25,40)
        const std::int64_t q1 = q0 == 0 ? 9 : q0 == 9 ? 25 : p.nq;
        ks.lane_dots({p.rows.data() + r0 * p.ldr, p.ldr, r1 - r0, p.n, p.q.data() + q0, p.ldq, q1 - q0,
                      parts.data() + r0 * p.ldy + q0, p.ldy});
      }
    }
    EXPECT_EQ(whole, parts) << isa_name(isa);
  }
}

// Scores as attention has them: random logits, columns of any length.
std::vector<float> softmax(const KernelSet& ks, std::vector<float> x, std::int64_t ldx, std::int64_t nr,
                           std::int64_t nq, float scale) {
  ks.lane_softmax({x.data(), ldx, nr, nq, scale});
  return x;
}

TEST(LaneSoftmax, ScalarMatchesDoublePrecision) {
  const std::int64_t nr = 300, nq = 6, ldx = 9;
  const float scale = 0.125f;
  const auto x = test::random_floats(static_cast<std::size_t>(nr * ldx), 3, 20.0f);
  const std::vector<float> y = softmax(kernel_set(Isa::Scalar), x, ldx, nr, nq, scale);
  for (std::int64_t q = 0; q < ldx; ++q) {
    if (q >= nq) {
      for (std::int64_t r = 0; r < nr; ++r) ASSERT_EQ(y[r * ldx + q], x[r * ldx + q]) << "column " << q << " written";
      continue;
    }
    double mx = -INFINITY, sum = 0.0;
    for (std::int64_t r = 0; r < nr; ++r) mx = std::max(mx, static_cast<double>(scale * x[r * ldx + q]));
    for (std::int64_t r = 0; r < nr; ++r) sum += std::exp(static_cast<double>(scale * x[r * ldx + q]) - mx);
    for (std::int64_t r = 0; r < nr; ++r) {
      const double want = std::exp(static_cast<double>(scale * x[r * ldx + q]) - mx) / sum;
      // exp within 2 ulp, the float sum of nr terms, the division and the product.
      ASSERT_NEAR(y[r * ldx + q], want, want * (static_cast<double>(nr) + 4.0) * std::ldexp(1.0, -24))
          << "row " << r << " column " << q;
    }
  }
}

TEST(LaneSoftmax, SimdIsBitIdenticalToScalar) {
  const KernelSet& ref = kernel_set(Isa::Scalar);
  for (const KernelSet* simd : simd_sets()) {
    for (std::int64_t nq : kQueryCounts) {
      for (std::int64_t nr : {1, 2, 7, 130}) {
        const std::int64_t ldx = nq + 3;
        auto x = test::random_floats(static_cast<std::size_t>(nr * ldx), static_cast<std::uint32_t>(nq + nr), 30.0f);
        if (nr > 1) x[0] = -INFINITY;  // a masked score (a column of only -inf has no softmax)
        ASSERT_EQ(softmax(ref, x, ldx, nr, nq, 0.3f), softmax(*simd, x, ldx, nr, nq, 0.3f))
            << isa_name(simd->isa) << " nr=" << nr << " nq=" << nq;
      }
    }
  }
}

// exp over every 64th float in [-87.5, 0] (the range softmax uses) and every 64th in
// [-88.0, 0.5]-ish on the positive side, against double exp. Also the SIMD levels bit for bit:
// one column softmax over all of them runs each level's exp on every value.
TEST(LaneExp, WithinTwoUlpAndEqualAtEveryLevel) {
  std::vector<float> xs;
  for (std::uint32_t b = 0x80000000u; b <= std::bit_cast<std::uint32_t>(-87.5f); b += 64) xs.push_back(std::bit_cast<float>(b));
  for (float x = 0.0f; x <= 88.0f; x += 1.0f / 64) xs.push_back(x);
  double worst = 0.0;
  for (float x : xs) {
    const double want = std::exp(static_cast<double>(x));
    const float got = lane_exp(x);
    const double ulp = std::ldexp(1.0, std::ilogb(static_cast<float>(want)) - 23);
    const double err = std::fabs(got - want) / std::max(ulp, static_cast<double>(std::numeric_limits<float>::denorm_min()));
    worst = std::max(worst, err);
    ASSERT_LE(err, 2.0) << "exp(" << x << ") = " << got << ", want " << want;
  }
  RecordProperty("worst_ulp", std::to_string(worst));
  std::printf("lane_exp: worst error %.3f ulp over %zu values\n", worst, xs.size());
  EXPECT_EQ(lane_exp(0.0f), 1.0f);
  EXPECT_EQ(lane_exp(-0.0f), 1.0f);
  EXPECT_EQ(lane_exp(-87.6f), 0.0f);
  EXPECT_EQ(lane_exp(-INFINITY), 0.0f);
  EXPECT_TRUE(std::isnan(lane_exp(NAN)));
  EXPECT_GT(lane_exp(-87.4f), 0.0f);  // subnormal, kept

  // Softmax over rows of one column with max 0: every row runs exp(x); the outputs differ
  // between levels if any exp does.
  std::vector<float> col;
  for (std::size_t i = 0; i < xs.size(); i += 97) col.push_back(xs[i] > 0 ? -xs[i] : xs[i]);
  const auto nr = static_cast<std::int64_t>(col.size());
  const std::vector<float> want = softmax(kernel_set(Isa::Scalar), col, 1, nr, 1, 1.0f);
  for (const KernelSet* simd : simd_sets()) EXPECT_EQ(want, softmax(*simd, col, 1, nr, 1, 1.0f)) << isa_name(simd->isa);
}

// silu(g) * u against double precision over every 4096th float in [-100, 100] (and the edges of
// exp's range), and every SIMD level bit for bit against the scalar reference, tails included.
TEST(SiluMul, WithinFourUlpAndEqualAtEveryLevel) {
  std::vector<float> g;
  for (std::uint32_t b = 0; b <= std::bit_cast<std::uint32_t>(100.0f); b += 4096)
    g.push_back(std::bit_cast<float>(b)), g.push_back(-std::bit_cast<float>(b));
  for (float x : {-87.4f, -87.5f, -87.6f, -88.0f, -89.0f, 1e30f, -1e30f, INFINITY}) g.push_back(x);
  const std::vector<float> u = test::random_floats(g.size(), 7);
  std::vector<float> want = g;
  kernel_set(Isa::Scalar).silu_mul(want.data(), u.data(), static_cast<std::int64_t>(want.size()));
  for (std::size_t i = 0; i < g.size(); ++i) {
    const double x = g[i], exact = x / (1.0 + std::exp(-x)) * u[i];
    // (ilogb(0) is INT_MIN: no ulp to take there)
    const double ulp = exact == 0.0 ? 0.0 : std::ldexp(1.0, std::ilogb(static_cast<float>(exact)) - 23);
    // Below g = -87.5 the result is 0 (lane_exp's range): |g e^g u| < 1e-35 there.
    const double tol = std::isfinite(exact) ? std::max(4.0 * ulp, 1e-35) : 0.0;
    if (std::isinf(exact)) ASSERT_EQ(want[i], static_cast<float>(exact)) << "silu(" << g[i] << ")";
    else ASSERT_LE(std::fabs(want[i] - exact), tol) << "silu(" << g[i] << ") * " << u[i] << " = " << want[i] << ", want " << exact;
  }
  std::vector<float> nan_in = {NAN};
  kernel_set(Isa::Scalar).silu_mul(nan_in.data(), u.data(), 1);
  EXPECT_TRUE(std::isnan(nan_in[0]));
  for (const KernelSet* simd : simd_sets()) {
    std::vector<float> got = g;
    simd->silu_mul(got.data(), u.data(), static_cast<std::int64_t>(got.size()));
    EXPECT_EQ(0, std::memcmp(want.data(), got.data(), want.size() * sizeof(float))) << isa_name(simd->isa);
    for (std::int64_t n = 0; n <= 40; ++n) {  // tails: values past n untouched
      std::vector<float> a(g.begin(), g.begin() + 48), b = a;
      kernel_set(Isa::Scalar).silu_mul(a.data(), u.data(), n);
      simd->silu_mul(b.data(), u.data(), n);
      EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float))) << isa_name(simd->isa) << " n=" << n;
      EXPECT_EQ(0, std::memcmp(a.data() + n, g.data() + n, (a.size() - n) * sizeof(float))) << "n=" << n;
    }
  }
}

std::vector<float> sums(const KernelSet& ks, const Problem& s) {
  std::vector<float> y(static_cast<std::size_t>(s.nq * s.ldy), kSentinel);
  ks.lane_sums({s.rows.data(), s.ldr, s.nr, s.n, s.q.data(), s.ldq, s.nq, y.data(), s.ldy});
  return y;
}

TEST(LaneSums, ScalarMatchesDoublePrecision) {
  const Problem s = make_problem(Kind::Sums, 131, 70, 5, 11);
  expect_double_sums(sums(kernel_set(Isa::Scalar), s), s.nq, s.n, s.ldy, s.nr, [&](auto q, auto c, auto r) {
    return static_cast<double>(s.q[r * s.ldq + q]) * s.rows[r * s.ldr + c];
  });
}

TEST(LaneSums, SimdIsBitIdenticalToScalarForEveryShape) {
  const KernelSet& ref = kernel_set(Isa::Scalar);
  for (const KernelSet* simd : simd_sets()) {
    for (std::int64_t nq : {1, 2, 3, 4, 5, 6, 7, 8, 13, 16, 128}) {
      for (std::int64_t n : {1, 7, 8, 16, 17, 40, 64, 65, 100, 512}) {
        for (std::int64_t nr : {1, 2, 37, 300}) {  // 300: several row chunks at every level
          const Problem s = make_problem(Kind::Sums, nr, n, nq, static_cast<std::uint32_t>(nq * 7 + n * 131 + nr));
          ASSERT_EQ(sums(ref, s), sums(*simd, s)) << isa_name(simd->isa) << " nr=" << nr << " n=" << n << " nq=" << nq;
        }
      }
    }
  }
}

TEST(LaneSums, SplittingQueriesOrColumnsChangesNothing) {
  for (Isa isa : test::supported_levels()) {
    const KernelSet& ks = kernel_set(isa);
    const Problem s = make_problem(Kind::Sums, 50, 512, 16, 5);
    const std::vector<float> whole = sums(ks, s);
    std::vector<float> parts(whole.size(), kSentinel);
    for (std::int64_t q0 : {0, 5}) {            // queries [0,5) [5,16)
      for (std::int64_t c0 : {0, 64, 100}) {    // columns [0,64) [64,100) [100,512)
        const std::int64_t q1 = q0 == 0 ? 5 : s.nq, c1 = c0 == 0 ? 64 : c0 == 64 ? 100 : s.n;
        ks.lane_sums({s.rows.data() + c0, s.ldr, s.nr, c1 - c0, s.q.data() + q0, s.ldq, q1 - q0,
                      parts.data() + q0 * s.ldy + c0, s.ldy});
      }
    }
    EXPECT_EQ(whole, parts) << isa_name(isa);
  }
}

// Rows fed in several calls, each resuming from y, give the one-call result bit for bit (the
// attention sums over a cache stored in another type dequantize it chunk by chunk).
TEST(LaneSums, ResumingOverRowChunksChangesNothing) {
  for (Isa isa : test::supported_levels()) {
    const KernelSet& ks = kernel_set(isa);
    const Problem s = make_problem(Kind::Sums, 300, 100, 16, 9);
    const std::vector<float> whole = sums(ks, s);
    std::vector<float> parts(whole.size(), kSentinel);
    const std::int64_t cuts[] = {0, 1, 130, 131, 300};  // a one-row call, a row chunk's edge
    for (std::size_t i = 0; i + 1 < std::size(cuts); ++i)
      ks.lane_sums({s.rows.data() + cuts[i] * s.ldr, s.ldr, cuts[i + 1] - cuts[i], s.n, s.q.data() + cuts[i] * s.ldq,
                    s.ldq, s.nq, parts.data(), s.ldy, i > 0});
    EXPECT_EQ(whole, parts) << isa_name(isa);
    std::vector<float> none = whole;  // resuming over no rows leaves y as it was
    ks.lane_sums({s.rows.data(), s.ldr, 0, s.n, s.q.data(), s.ldq, s.nq, none.data(), s.ldy, true});
    EXPECT_EQ(whole, none) << isa_name(isa);
  }
}

}  // namespace
}  // namespace dsv2::kernels
