// The KV cache types' dequantizers (dequantize_impl.h) at every level give the exact values
// (bf16: the top half of an f32; q8_0: scale times value, one rounding), so the levels agree bit
// for bit: for one row, and for a column range of a strided matrix's rows, leaving the
// destination's padding alone.
#include <gtest/gtest.h>

#include <bit>
#include <cstring>

#include "test_util.h"

namespace dsv2::kernels {
namespace {

// Random rows of t: bf16 from random floats, q8_0 through the reference quantizer.
std::vector<std::uint8_t> random_rows(DType t, std::int64_t rows, std::int64_t n) {
  const std::vector<float> x = test::random_floats(static_cast<std::size_t>(rows * n), 17, 3.0f);
  std::vector<std::uint8_t> out(static_cast<std::size_t>(rows) * row_bytes(t, n));
  for (std::int64_t r = 0; r < rows; ++r) quantize_row(t, x.data() + r * n, n, out.data() + r * row_bytes(t, n));
  return out;
}

// The exact values, from the stored bits.
std::vector<float> exact(DType t, const std::uint8_t* row, std::int64_t n) {
  std::vector<float> y(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    if (t == DType::BF16) {
      std::uint16_t h = 0;
      std::memcpy(&h, row + 2 * i, 2);
      y[i] = std::bit_cast<float>(static_cast<std::uint32_t>(h) << 16);
    } else {
      const auto* b = reinterpret_cast<const BlockQ8_0*>(row) + i / kQK;
      y[i] = static_cast<float>(static_cast<double>(f16_to_f32(b->d)) * b->qs[i % kQK]);
    }
  }
  return y;
}

class Dequantize : public ::testing::TestWithParam<DType> {};

TEST_P(Dequantize, EveryLevelGivesTheExactValues) {
  const DType t = GetParam();
  for (std::int64_t n : {32, 64, 576, 1024}) {
    const std::vector<std::uint8_t> row = random_rows(t, 1, n);
    const std::vector<float> want = exact(t, row.data(), n);
    for (Isa isa : test::supported_levels()) {
      std::vector<float> got(static_cast<std::size_t>(n) + 3, -1.0f);
      kernel_set(isa).of(t).dequantize_rows({row.data(), 0, 1, n, got.data(), n});
      EXPECT_EQ(0, std::memcmp(want.data(), got.data(), want.size() * sizeof(float))) << isa_name(isa) << " n=" << n;
      EXPECT_EQ(got[static_cast<std::size_t>(n)], -1.0f) << isa_name(isa) << ": wrote past n";
    }
  }
}

TEST_P(Dequantize, RowsOfAStridedMatrixMatchRowByRow) {
  const DType t = GetParam();
  const std::int64_t rows = 13, cols = 192, n = 64, c0 = 64, ldd = n + 5;  // columns [64, 128)
  const std::vector<std::uint8_t> m = random_rows(t, rows, cols);
  const std::size_t stride = row_bytes(t, cols);
  for (Isa isa : test::supported_levels()) {
    std::vector<float> got(static_cast<std::size_t>(rows * ldd), -1.0f);
    kernel_set(isa).of(t).dequantize_rows({m.data() + row_bytes(t, c0), stride, rows, n, got.data(), ldd});
    for (std::int64_t r = 0; r < rows; ++r) {
      const std::vector<float> want = exact(t, m.data() + r * stride + row_bytes(t, c0), n);
      EXPECT_EQ(0, std::memcmp(want.data(), got.data() + r * ldd, want.size() * sizeof(float))) << isa_name(isa) << " row " << r;
      for (std::int64_t c = n; c < ldd; ++c) EXPECT_EQ(got[static_cast<std::size_t>(r * ldd + c)], -1.0f) << "padding";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(CacheTypes, Dequantize, ::testing::Values(DType::BF16, DType::Q8_0),
                         [](const auto& p) { return std::string(dtype_name(p.param)); });

}  // namespace
}  // namespace dsv2::kernels
