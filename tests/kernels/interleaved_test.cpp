// The row-interleaved compute layouts (Q4_0_R16, Q8_0_R16, Q4_K_R16): conversion round trips, known bytes,
// in-place interleaving, and kernels that are bit-identical across ISAs and equal to the plain
// layout's products up to float summation order.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>

#include "test_util.h"
#include "util/error.h"

namespace dsv2::kernels {
namespace {

constexpr std::int64_t kG = kRowGroup;

std::vector<std::uint8_t> random_bytes(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::uint8_t> v(n);
  for (auto& b : v) b = static_cast<std::uint8_t>(rng());
  return v;
}

TEST(Interleaved, TypesMapBothWays) {
  EXPECT_EQ(interleaved_type(DType::Q4_0), DType::Q4_0_R16);
  EXPECT_EQ(interleaved_type(DType::Q8_0), DType::Q8_0_R16);
  EXPECT_EQ(interleaved_type(DType::Q4_K), DType::Q4_K_R16);
  EXPECT_EQ(interleaved_type(DType::Q6_K), DType::Q6_K_R16);
  EXPECT_EQ(plain_type(DType::Q6_K_R16), DType::Q6_K);
  EXPECT_EQ(interleaved_type(DType::Q5_K), DType::Q5_K_R16);
  EXPECT_EQ(plain_type(DType::Q5_K_R16), DType::Q5_K);
  EXPECT_EQ(interleaved_type(DType::F16), DType::F16);
  EXPECT_EQ(plain_type(DType::Q4_0_R16), DType::Q4_0);
  EXPECT_EQ(plain_type(DType::Q8_0_R16), DType::Q8_0);
  EXPECT_EQ(plain_type(DType::Q4_K_R16), DType::Q4_K);
  EXPECT_EQ(interleaved_type(DType::Q5_0), DType::Q5_0_R16);
  EXPECT_EQ(plain_type(DType::Q5_0_R16), DType::Q5_0);
  EXPECT_EQ(interleaved_type(DType::Q5_1), DType::Q5_1_R16);
  EXPECT_EQ(plain_type(DType::Q5_1_R16), DType::Q5_1);
  EXPECT_EQ(dtype_info(DType::Q4_K_R16).row_group, kG);
  EXPECT_EQ(dtype_info(DType::Q4_0_R16).row_group, kG);
  DType t{};
  EXPECT_FALSE(dtype_from_name("q4_0_r16", &t));  // compute layouts are not file types
  EXPECT_FALSE(dtype_from_name("q4_k_r16", &t));
}

TEST(Interleaved, RoundTripRestoresEveryRow) {
  for (DType r16 : {DType::Q4_0_R16, DType::Q8_0_R16, DType::Q4_K_R16, DType::Q5_0_R16, DType::Q6_K_R16, DType::Q5_1_R16, DType::Q5_K_R16}) {
    const std::int64_t n = dtype_info(r16).block_size * 5;
    const std::size_t rb = row_bytes(r16, n);
    const auto plain = random_bytes(kG * rb, 3);
    std::vector<std::uint8_t> group(plain.size()), row(rb);
    interleave_rows(r16, plain.data(), n, group.data());
    EXPECT_NE(group, plain);
    for (int r = 0; r < kG; ++r) {
      deinterleave_row(r16, group.data(), n, r, row.data());
      ASSERT_EQ(0, std::memcmp(row.data(), plain.data() + r * rb, rb)) << dtype_name(r16) << " row " << r;
    }
  }
}

// Known bytes: row r's scale and byte j of its block b land where blocks.h says.
TEST(Interleaved, KnownPositions) {
  const std::int64_t n = 64;  // two blocks
  std::vector<BlockQ4_0> q4(kG * 2);
  std::vector<BlockQ8_0> q8(kG * 2);
  for (int r = 0; r < kG; ++r)
    for (int b = 0; b < 2; ++b) {
      q4[r * 2 + b].d = static_cast<std::uint16_t>(100 * r + b);
      q8[r * 2 + b].d = static_cast<std::uint16_t>(100 * r + b);
      for (int j = 0; j < 16; ++j) q4[r * 2 + b].qs[j] = static_cast<std::uint8_t>(16 * r + j + b);
      for (int j = 0; j < 32; ++j) q8[r * 2 + b].qs[j] = static_cast<std::int8_t>(4 * r + j - b);
    }
  BlockQ4_0x16 g4[2];
  BlockQ8_0x16 g8[2];
  interleave_rows(DType::Q4_0_R16, q4.data(), n, g4);
  interleave_rows(DType::Q8_0_R16, q8.data(), n, g8);
  for (int b = 0; b < 2; ++b)
    for (int r = 0; r < kG; ++r) {
      EXPECT_EQ(g4[b].d[r], 100 * r + b);
      EXPECT_EQ(g8[b].d[r], 100 * r + b);
      for (int k = 0; k < 4; ++k)
        for (int j = 0; j < 4; ++j) EXPECT_EQ(g4[b].qs[k][r][j], static_cast<std::uint8_t>(16 * r + 4 * k + j + b));
      for (int p = 0; p < 16; ++p)
        for (int j = 0; j < 2; ++j) EXPECT_EQ(g8[b].qs[p][r][j], 4 * r + 2 * p + j - b);
    }
}

// 16 Q4_K / Q5_K super-blocks whose every byte says where it came from.
template <class Plain>
std::vector<Plain> numbered_k4_rows() {
  std::vector<Plain> rows(kG);
  for (int r = 0; r < kG; ++r) {
    rows[r].d = static_cast<std::uint16_t>(1000 + r);
    rows[r].dmin = static_cast<std::uint16_t>(2000 + r);
    for (int i = 0; i < 12; ++i) rows[r].scales[i] = static_cast<std::uint8_t>(12 * r + i);
    for (int i = 0; i < 128; ++i) rows[r].qs[i] = static_cast<std::uint8_t>(7 * r + i);
  }
  return rows;
}

// Row r's d, dmin, scale bytes 4k..4k+3 and qs byte 32c + 4p + j land where blocks.h says.
template <class Group>
void expect_k4_positions(const Group& g) {
  for (int r = 0; r < kG; ++r) {
    EXPECT_EQ(g.d[r], 1000 + r);
    EXPECT_EQ(g.dmin[r], 2000 + r);
    for (int k = 0; k < 3; ++k) {
      std::uint8_t b[4];
      std::memcpy(b, &g.scales[k][r], 4);
      for (int j = 0; j < 4; ++j) EXPECT_EQ(b[j], 12 * r + 4 * k + j);
    }
    for (int c = 0; c < 4; ++c)
      for (int p = 0; p < 8; ++p)
        for (int j = 0; j < 4; ++j) EXPECT_EQ(g.qs[c][p][r][j], static_cast<std::uint8_t>(7 * r + 32 * c + 4 * p + j));
  }
}

TEST(Interleaved, KnownPositionsQ4K) {
  const std::vector<BlockQ4K> rows = numbered_k4_rows<BlockQ4K>();
  BlockQ4_Kx16 g;
  interleave_rows(DType::Q4_K_R16, rows.data(), kQKK, &g);
  expect_k4_positions(g);
}

// Q5_K as Q4_K, and the fifth bits: bit 2c (low nibble) / 2c + 1 (high nibble) of qh[4p + j]
// land on bit 4r + j of the piece's masks.
TEST(Interleaved, KnownPositionsQ5K) {
  std::vector<BlockQ5K> rows = numbered_k4_rows<BlockQ5K>();
  for (int r = 0; r < kG; ++r)
    for (int l = 0; l < 32; ++l) rows[r].qh[l] = static_cast<std::uint8_t>(37 * r + 11 * l + 5);
  BlockQ5_Kx16 g;
  interleave_rows(DType::Q5_K_R16, rows.data(), kQKK, &g);
  expect_k4_positions(g);
  for (int r = 0; r < kG; ++r)
    for (int c = 0; c < 4; ++c)
      for (int p = 0; p < 8; ++p)
        for (int j = 0; j < 4; ++j) {
          const int qh = rows[r].qh[4 * p + j];
          EXPECT_EQ((g.hmask[c][p][0] >> (4 * r + j)) & 1, static_cast<std::uint64_t>((qh >> (2 * c)) & 1)) << r << " " << c << " " << p << " " << j;
          EXPECT_EQ((g.hmask[c][p][1] >> (4 * r + j)) & 1, static_cast<std::uint64_t>((qh >> (2 * c + 1)) & 1)) << r << " " << c << " " << p << " " << j;
        }
}

TEST(Interleaved, InPlaceKeepsEveryRowsValues) {
  for (DType t : {DType::Q4_0, DType::Q8_0, DType::Q4_K, DType::Q5_0, DType::Q6_K, DType::Q5_1, DType::Q5_K}) {
    test::Weights w = test::make_weights(t, 3 * kG, dtype_info(t).block_size * 3, 11);
    Tensor view = w.tensor();
    ASSERT_TRUE(interleave_in_place(view));
    EXPECT_EQ(view.dtype, interleaved_type(t));
    std::vector<float> row(static_cast<std::size_t>(w.cols));
    for (std::int64_t r = 0; r < w.rows; ++r) {
      dequantize_row(view, r, row.data());
      ASSERT_EQ(row, std::vector<float>(w.dequant.begin() + r * w.cols, w.dequant.begin() + (r + 1) * w.cols))
          << dtype_name(t) << " row " << r;
    }
  }
}

TEST(Interleaved, InPlaceLeavesOtherShapesAndTypes) {
  test::Weights odd = test::make_weights(DType::Q4_0, kG + 1, 64, 1);
  Tensor v = odd.tensor();
  const auto before = odd.bytes;
  EXPECT_FALSE(interleave_in_place(v));
  EXPECT_EQ(v.dtype, DType::Q4_0);
  EXPECT_EQ(odd.bytes, before);
  test::Weights k = test::make_weights(DType::F16, kG, 256, 1);
  Tensor kv = k.tensor();
  EXPECT_FALSE(interleave_in_place(kv));
  EXPECT_EQ(kv.dtype, DType::F16);
}

// Every ISA on random (not integer-friendly) data: the same float operations in the same order,
// so equal bit for bit; tiles of 1..17 activation rows cover every edge tile.
TEST(Interleaved, SimdEqualsScalarBitForBit) {
  for (DType t : {DType::Q4_0_R16, DType::Q8_0_R16, DType::Q4_K_R16, DType::Q5_0_R16, DType::Q6_K_R16, DType::Q5_1_R16, DType::Q5_K_R16}) {
    const KernelSet& ref = kernel_set(Isa::Scalar);
    const ActFormat act = ref.of(t).act;
    const std::int64_t bs = dtype_info(t).block_size;
    for (std::int64_t cols : {bs * (bs == 256 ? 3 : 17), std::int64_t{1024}}) {
      const std::int64_t nw = 3 * kG, nx = 17;
      const test::Weights w = test::make_weights(t, nw, cols, 40 + static_cast<std::uint32_t>(cols));
      const auto x = test::random_floats(static_cast<std::size_t>(nx * cols), 41);
      const std::size_t xs = act_row_bytes(act, cols);
      std::vector<std::uint8_t> xq(nx * xs);
      for (std::int64_t j = 0; j < nx; ++j) ref.quantize_act[static_cast<int>(act)](x.data() + j * cols, cols, xq.data() + j * xs);
      for (std::int64_t tx = 1; tx <= nx; ++tx) {
        std::vector<float> y_ref(tx * nw);
        ref.of(t).gemm({cols, w.bytes.data(), row_bytes(t, cols), nw, xq.data(), xs, tx, y_ref.data(), nw});
        for (Isa isa : {Isa::Avx2, Isa::Avx512}) {
          if (!isa_supported(isa)) continue;
          std::vector<float> y(tx * nw, NAN);
          kernel_set(isa).of(t).gemm({cols, w.bytes.data(), row_bytes(t, cols), nw, xq.data(), xs, tx, y.data(), nw});
          ASSERT_EQ(0, std::memcmp(y.data(), y_ref.data(), y.size() * sizeof(float)))
              << dtype_name(t) << " " << isa_name(isa) << " cols=" << cols << " rows=" << tx;
        }
      }
    }
  }
}

// The interleaved scalar kernel against the plain layout's on the same weights and activation
// bytes: the same integer block sums, so only the float accumulation order differs.
TEST(Interleaved, MatchesPlainLayout) {
  const KernelSet& ref = kernel_set(Isa::Scalar);
  for (DType plain : {DType::Q4_0, DType::Q8_0, DType::Q4_K, DType::Q5_0, DType::Q6_K, DType::Q5_1, DType::Q5_K}) {
    const DType t = interleaved_type(plain);
    const std::int64_t cols = dtype_info(plain).block_size * 9, nw = 2 * kG, nx = 5;
    const test::Weights w = test::make_weights(plain, nw, cols, 7);
    test::Weights wi = w;
    Tensor view = wi.tensor();
    ASSERT_TRUE(interleave_in_place(view));
    const auto x = test::random_floats(static_cast<std::size_t>(nx * cols), 8);
    const ActFormat act = ref.of(t).act;
    ASSERT_EQ(act, ref.of(plain).act);
    const std::size_t xs = act_row_bytes(act, cols);
    std::vector<std::uint8_t> xq(nx * xs);
    for (std::int64_t j = 0; j < nx; ++j) ref.quantize_act[static_cast<int>(act)](x.data() + j * cols, cols, xq.data() + j * xs);
    std::vector<float> y_plain(nx * nw), y(nx * nw);
    ref.of(plain).gemm({cols, w.bytes.data(), row_bytes(plain, cols), nw, xq.data(), xs, nx, y_plain.data(), nw});
    ref.of(t).gemm({cols, wi.bytes.data(), row_bytes(t, cols), nw, xq.data(), xs, nx, y.data(), nw});
    for (std::int64_t j = 0; j < nx; ++j)
      for (std::int64_t i = 0; i < nw; ++i) {
        double mag = 0.0;
        for (std::int64_t k = 0; k < cols; ++k) mag += std::fabs(w.dequant[i * cols + k] * x[j * cols + k]);
        ASSERT_NEAR(y[j * nw + i], y_plain[j * nw + i], 2e-6 * mag) << dtype_name(t) << " w" << i << " x" << j;
      }
  }
}

TEST(Interleaved, MatmulPartRejectsRangesThatSplitAGroup) {
  test::Weights w = test::make_weights(DType::Q8_0, 2 * kG, 64, 2);
  Tensor view = w.tensor();
  ASSERT_TRUE(interleave_in_place(view));
  std::vector<std::uint8_t> xq(act_row_bytes(DType::Q8_0_R16, 64), 0);
  std::vector<float> y(2 * kG);
  EXPECT_THROW(matmul_part(view, xq.data(), 1, 8, 32, y.data(), 2 * kG), Error);
  EXPECT_THROW(matmul_part(view, xq.data(), 1, 0, 24, y.data(), 2 * kG), Error);
  EXPECT_NO_THROW(matmul_part(view, xq.data(), 1, 16, 32, y.data(), 2 * kG));
}

}  // namespace
}  // namespace dsv2::kernels
