// matmul() end to end with the active ISA: against a double-precision product of the
// dequantized weights and the unquantized activations, over row counts, thread counts and
// output sizes smaller than the pool.
#include "kernels/matmul.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "kernels/thread_pool.h"
#include "test_util.h"
#include "util/error.h"

namespace dsv2 {
namespace {

using kernels::ActFormat;

// The activations as the kernels see them: rounded to bf16, or 8/16-bit quantized and decoded.
std::vector<float> seen_activations(DType t, const std::vector<float>& x, std::int64_t cols) {
  const kernels::KernelSet& ref = kernels::kernel_set(kernels::Isa::Scalar);
  const ActFormat f = ref.of(t).act;
  std::vector<float> out(x.size());
  std::vector<std::uint8_t> q(kernels::act_row_bytes(f, cols));
  for (std::size_t r = 0; r < x.size() / static_cast<std::size_t>(cols); ++r) {
    const float* src = x.data() + r * cols;
    float* dst = out.data() + r * cols;
    if (f == ActFormat::F32) {
      std::copy(src, src + cols, dst);
      continue;
    }
    ref.quantize_act[static_cast<int>(f)](src, cols, q.data());
    const std::vector<float> seen = test::decode_act(f, q.data(), cols);
    std::copy(seen.begin(), seen.end(), dst);
  }
  return out;
}

// max |y - ref| / rms(ref) with ref the double product of the dequantized weights and xs.
double relative_error(const test::Weights& w, const std::vector<float>& xs, std::int64_t rows,
                      const std::vector<float>& y) {
  const std::int64_t out = w.rows, cols = w.cols;
  double rms = 0.0, worst = 0.0;
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t o = 0; o < out; ++o) {
      double s = 0.0;
      for (std::int64_t i = 0; i < cols; ++i) s += static_cast<double>(w.dequant[o * cols + i]) * xs[r * cols + i];
      rms += s * s;
      worst = std::fmax(worst, std::fabs(y[r * out + o] - s));
    }
  }
  return worst / std::sqrt(rms / static_cast<double>(rows * out));
}

class Matmul : public ::testing::TestWithParam<DType> {};

// What rounding the activations to format f adds to relative_error against the raw activations
// (measured maxima: 8-bit formats 3.0e-2, Q16_0 8.5e-5; F32 only summation order).
double raw_tolerance(ActFormat f) {
  switch (f) {
    case ActFormat::F32: return 1e-5;
    case ActFormat::Q16_0: return 2e-4;
    default: return 0.04;
  }
}

// Against the activations the kernels see, only float summation order differs; against the raw
// activations, their rounding adds raw_tolerance.
TEST_P(Matmul, MatchesDoubleReference) {
  const DType t = GetParam();
  const std::int64_t cols = test::odd_cols(t);
  const double raw_tol = raw_tolerance(kernels::kernel_set(kernels::Isa::Scalar).of(t).act);
  const std::int64_t g = dtype_info(t).row_group;  // interleaved types: whole groups of rows
  for (std::int64_t out : {3 * g, 37 * g}) {
    const test::Weights w = test::make_weights(t, out, cols, 21);
    for (std::int64_t rows : {1, 2, 3, 8, 9, 67}) {
      const auto x = test::random_floats(static_cast<std::size_t>(rows * cols), 22);
      const auto xs = seen_activations(t, x, cols);
      for (int threads : {1, 2, 3, 5}) {
        ThreadPool pool(threads);
        std::vector<float> y(rows * out, NAN);
        matmul(w.tensor(), x.data(), rows, y.data(), threads == 1 ? nullptr : &pool);
        const std::string where = std::string(dtype_name(t)) + " out=" + std::to_string(out) +
                                  " rows=" + std::to_string(rows) + " threads=" + std::to_string(threads);
        EXPECT_LT(relative_error(w, xs, rows, y), 1e-5) << where;
        EXPECT_LT(relative_error(w, x, rows, y), raw_tol) << where;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Types, Matmul, ::testing::ValuesIn(test::kMatmulTypes),
                         [](const auto& p) { return std::string(dtype_name(p.param)); });
INSTANTIATE_TEST_SUITE_P(Interleaved, Matmul, ::testing::Values(DType::Q4_0_R16, DType::Q8_0_R16, DType::Q4_K_R16, DType::Q5_0_R16,
                                                            DType::Q6_K_R16, DType::Q5_1_R16, DType::Q5_K_R16),
                         [](const auto& p) { return std::string(dtype_name(p.param)); });

TEST(Matmul, RepeatedCallsGiveIdenticalResults) {
  const test::Weights w = test::make_weights(DType::Q4_0, 64, 512, 3);
  const auto x = test::random_floats(5 * 512, 4);
  ThreadPool pool(2);
  std::vector<float> a(5 * 64), b(5 * 64);
  matmul(w.tensor(), x.data(), 5, a.data(), &pool);
  for (int i = 0; i < 20; ++i) {
    matmul(w.tensor(), x.data(), 5, b.data(), &pool);
    ASSERT_EQ(a, b);
  }
}

TEST(Matmul, RejectsUnsupportedTypesAndShapes) {
  std::vector<std::int32_t> data(64);
  float x[32] = {}, y[2];
  EXPECT_THROW(matmul(Tensor{DType::I32, {2, 32}, data.data()}, x, 1, y), Error);
  EXPECT_THROW(matmul(Tensor{DType::Q4_0, {1, 48}, data.data()}, x, 1, y), Error);
}

// matmul_many against one matmul per output: the same bits, for outputs of mixed dtypes (two
// sharing the Q8_0 activation format, one reading floats, one the 16-bit format), batch sizes
// and thread counts.
TEST(MatmulMany, EqualsOneMatmulPerOutput) {
  const std::int64_t cols = 256;
  std::vector<test::Weights> ws;
  for (auto [t, rows] : {std::pair{DType::Q4_0_R16, 48}, std::pair{DType::F32, 7}, std::pair{DType::Q4_0, 21},
                         std::pair{DType::Q8_0, 16}, std::pair{DType::BF16, 5}})
    ws.push_back(test::make_weights(t, rows, cols, static_cast<std::uint32_t>(ws.size() + 40)));
  for (std::int64_t rows : {1, 3, 67}) {
    const auto x = test::random_floats(static_cast<std::size_t>(rows * cols), 41);
    for (int threads : {1, 2, 3}) {
      ThreadPool pool(threads);
      std::vector<std::vector<float>> got, want;
      std::vector<Tensor> tensors;
      std::vector<MatmulOut> outs;
      for (const test::Weights& w : ws) {
        tensors.push_back(w.tensor());
        got.emplace_back(static_cast<std::size_t>(rows * w.rows), NAN);
        want.emplace_back(static_cast<std::size_t>(rows * w.rows), NAN);
      }
      for (std::size_t i = 0; i < ws.size(); ++i) {
        outs.push_back({&tensors[i], got[i].data()});
        matmul(tensors[i], x.data(), rows, want[i].data(), &pool);
      }
      matmul_many(outs, x.data(), rows, threads == 1 ? nullptr : &pool);
      for (std::size_t i = 0; i < ws.size(); ++i)
        EXPECT_EQ(got[i], want[i]) << dtype_name(ws[i].type) << " rows=" << rows << " threads=" << threads;
    }
  }
}

TEST(MatmulMany, RejectsOutputsOfDifferentWidths) {
  const test::Weights a = test::make_weights(DType::Q8_0, 4, 64, 1), b = test::make_weights(DType::Q8_0, 4, 96, 2);
  const Tensor ta = a.tensor(), tb = b.tensor();
  std::vector<float> x(96), ya(4), yb(4);
  const MatmulOut outs[] = {{&ta, ya.data()}, {&tb, yb.data()}};
  EXPECT_THROW(matmul_many(outs, x.data(), 1, nullptr), Error);
}

TEST(Matmul, DequantizeRowMatchesKernelsForEveryType) {
  for (DType t : test::kMatmulTypes) {
    const test::Weights w = test::make_weights(t, 2, 256, 8);
    std::vector<float> row(256);
    dequantize_row(w.tensor(), 1, row.data());
    EXPECT_EQ(std::vector<float>(w.dequant.begin() + 256, w.dequant.end()), row) << dtype_name(t);
  }
}

}  // namespace
}  // namespace dsv2
