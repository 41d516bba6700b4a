// Every SIMD kernel against the scalar reference on the same weight and activation bytes, over
// tile shapes 1..9 x 1..9 (all edge tiles) and tails (odd block counts, non-multiple-of-16 rows).
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <random>
#include <string>

#include "test_util.h"

namespace dsv2::kernels {
namespace {

struct Case {
  DType type;
  Isa isa;
};

class SimdVsScalar : public ::testing::TestWithParam<Case> {};

TEST_P(SimdVsScalar, AllTileShapes) {
  const auto [type, isa] = GetParam();
  if (!isa_supported(isa)) GTEST_SKIP() << "CPU lacks " << isa_name(isa);
  const KernelSet& ref = kernel_set(Isa::Scalar);
  const KernelSet& simd = kernel_set(isa);
  ASSERT_EQ(ref.of(type).act, simd.of(type).act);
  for (std::int64_t cols : {test::odd_cols(type), std::int64_t{1024}}) {
    const std::int64_t nw = 9, nx = 9;
    const test::Weights w = test::make_weights(type, nw, cols, 100 + static_cast<std::uint32_t>(cols));
    const auto x = test::random_floats(static_cast<std::size_t>(nx * cols), 5);
    // Activation bytes from the scalar quantizer: both kernels read the same integers.
    const ActFormat act = ref.of(type).act;
    const std::size_t xs = act == ActFormat::F32 ? cols * 4 : act_row_bytes(act, cols);
    std::vector<std::uint8_t> xq(nx * xs);
    for (std::int64_t j = 0; j < nx; ++j) {
      if (act == ActFormat::F32) {
        std::memcpy(xq.data() + j * xs, x.data() + j * cols, cols * 4);
      } else {
        ref.quantize_act[static_cast<int>(act)](x.data() + j * cols, cols, xq.data() + j * xs);
      }
    }
    for (std::int64_t tw = 1; tw <= nw; ++tw) {
      for (std::int64_t tx = 1; tx <= nx; ++tx) {
        std::vector<float> y_ref(tx * tw), y(tx * tw, NAN);
        const GemmArgs args{cols, w.bytes.data(), row_bytes(type, cols), tw, xq.data(), xs, tx, nullptr, tw};
        GemmArgs a = args;
        a.y = y_ref.data();
        ref.of(type).gemm(a);
        a.y = y.data();
        simd.of(type).gemm(a);
        for (std::int64_t j = 0; j < tx; ++j) {
          for (std::int64_t i = 0; i < tw; ++i) {
            // Scale of the terms: sum |w| |x| over the row. Integer paths differ from the
            // reference only in the order of the float block sums.
            double mag = 0.0;
            for (std::int64_t k = 0; k < cols; ++k) mag += std::fabs(w.dequant[i * cols + k] * x[j * cols + k]);
            const float got = y[j * tw + i], want = y_ref[j * tw + i];
            ASSERT_NEAR(got, want, 2e-6 * mag + 1e-30)
                << dtype_name(type) << " " << isa_name(isa) << " cols=" << cols << " tile " << tw << "x" << tx
                << " at w" << i << " x" << j;
          }
        }
      }
    }
  }
}

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (Isa isa : {Isa::Avx2, Isa::Avx512})
    for (DType t : test::kMatmulTypes) cases.push_back({t, isa});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Kernels, SimdVsScalar, ::testing::ValuesIn(all_cases()), [](const auto& p) {
  return std::string(dtype_name(p.param.type)) + "_" + isa_name(p.param.isa);
});

// Random weight bytes with every f16 scale set to 1 and small integer activations whose block
// maxima are the activation format's largest value (scale exactly 1): all products and partial
// sums are integers below 2^24, so every ISA must return the scalar result bit for bit. This also
// feeds the kernels bytes no quantizer produces (Q8_0 -128, arbitrary 6-bit scales).
std::vector<std::uint8_t> unit_scale_row(DType t, std::int64_t cols, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::uint8_t> w(row_bytes(t, cols));
  for (auto& b : w) b = static_cast<std::uint8_t>(rng());
  const DTypeInfo& info = dtype_info(t);
  for (std::size_t off = 0; off < w.size(); off += info.block_bytes) {
    auto set_one = [&](std::size_t at) { w[off + at] = 0x00, w[off + at + 1] = 0x3c; };
    if (t == DType::Q6_K) {
      set_one(offsetof(BlockQ6K, d));
    } else {
      set_one(0);
      if (t == DType::Q4_K || t == DType::Q5_K || t == DType::Q5_1) set_one(2);  // dmin / m
    }
  }
  return w;
}

// Activations for BitExactOnIntegerData: one value per block of 32 at the format's maximum, the
// rest in [-2, 2]. A Q8_0 block then sums to at most 128 * 32767 + 31 * 2 * 128 < 2^22 with Q16_0
// activations, so that row is 3 blocks long; 8-bit formats keep sums far below 2^24 over the 768
// values the K-quants need.
std::vector<float> integer_acts(ActFormat f) {
  const bool wide = f == ActFormat::Q16_0;
  const std::int64_t cols = wide ? 96 : 768;
  std::vector<float> x(static_cast<std::size_t>(cols));
  for (std::int64_t i = 0; i < cols; ++i)
    x[i] = i % 32 == 5 ? (wide ? 32767.0f : 127.0f) : static_cast<float>((i * 7) % 5 - 2);
  return x;
}

TEST(SimdVsScalar, BitExactOnIntegerData) {
  for (DType t : {DType::Q8_0, DType::Q4_0, DType::Q5_0, DType::Q5_1, DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
    const std::vector<float> x = integer_acts(kernel_set(Isa::Scalar).of(t).act);
    const auto cols = static_cast<std::int64_t>(x.size());
    const std::vector<std::uint8_t> w = unit_scale_row(t, cols, 9);
    float first = NAN;
    for (Isa isa : test::supported_levels()) {
      const KernelSet& ks = kernel_set(isa);
      std::vector<std::uint8_t> xq(act_row_bytes(ks.of(t).act, cols));
      ks.quantize_act[static_cast<int>(ks.of(t).act)](x.data(), cols, xq.data());
      float y = NAN;
      ks.of(t).gemm({cols, w.data(), w.size(), 1, xq.data(), xq.size(), 1, &y, 1});
      if (isa == Isa::Scalar) first = y;
      EXPECT_EQ(y, first) << dtype_name(t) << " " << isa_name(isa);
    }
  }
}

}  // namespace
}  // namespace dsv2::kernels
