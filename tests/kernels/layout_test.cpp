// Known-bytes tests: hand-built blocks decode to hand-computed values, so a layout mistake cannot
// hide behind a quantize -> dequantize round trip that shares it.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "kernels/blocks.h"
#include "kernels/kernels.h"

namespace dsv2::kernels {
namespace {

std::vector<float> decode(DType t, const void* block, int n) {
  std::vector<float> y(static_cast<std::size_t>(n));
  dequantize_row(t, block, n, y.data());
  return y;
}

TEST(Layout, Q8_0) {
  BlockQ8_0 b;
  b.d = 0x3800;  // f16 0.5
  for (int i = 0; i < 32; ++i) b.qs[i] = static_cast<std::int8_t>(i * 8 - 127);
  const auto y = decode(DType::Q8_0, &b, 32);
  EXPECT_EQ(y[0], -63.5f);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(y[i], 0.5f * static_cast<float>(i * 8 - 127)) << i;
}

TEST(Layout, Q4_0LowNibblesFirstHalf) {
  BlockQ4_0 b;
  b.d = 0x4000;  // f16 2.0
  for (int i = 0; i < 16; ++i) b.qs[i] = static_cast<std::uint8_t>(i | ((15 - i) << 4));
  const auto y = decode(DType::Q4_0, &b, 32);
  EXPECT_EQ(y[0], -16.0f);   // (0 - 8) * 2
  EXPECT_EQ(y[16], 14.0f);   // (15 - 8) * 2
  for (int i = 0; i < 16; ++i) {
    EXPECT_EQ(y[i], 2.0f * static_cast<float>(i - 8));
    EXPECT_EQ(y[i + 16], 2.0f * static_cast<float>(15 - i - 8));
  }
}

// Bit j of qh (little-endian) is bit 4 of value j: qh = 0x80000001 sets values 0 and 31.
TEST(Layout, Q5_0AndQ5_1FifthBitFromQh) {
  BlockQ5_0 b0;
  BlockQ5_1 b1;
  b0.d = b1.d = 0x4000;  // f16 2.0
  b1.m = 0xBC00;         // f16 -1.0
  const std::uint8_t qh[4] = {0x01, 0x00, 0x00, 0x80};
  std::memcpy(b0.qh, qh, 4);
  std::memcpy(b1.qh, qh, 4);
  for (int i = 0; i < 16; ++i) b0.qs[i] = b1.qs[i] = static_cast<std::uint8_t>(i | ((15 - i) << 4));
  const auto y0 = decode(DType::Q5_0, &b0, 32), y1 = decode(DType::Q5_1, &b1, 32);
  for (int i = 0; i < 32; ++i) {
    const int q = (i < 16 ? i : 31 - i) + (i == 0 || i == 31 ? 16 : 0);
    EXPECT_EQ(y0[i], 2.0f * static_cast<float>(q - 16)) << i;
    EXPECT_EQ(y1[i], 2.0f * static_cast<float>(q) - 1.0f) << i;
  }
  EXPECT_EQ(y0[0], 0.0f);   // (0 + 16 - 16) * 2
  EXPECT_EQ(y1[31], 31.0f);  // (0 + 16) * 2 - 1
}

// Scales and mins of the 8 sub-blocks, large enough that sub-blocks 4-7 need their top 2 bits,
// and their 12-byte packing written out by hand.
constexpr std::uint8_t kSc[8] = {1, 2, 3, 4, 17, 53, 6, 63};
constexpr std::uint8_t kMin[8] = {0, 5, 10, 20, 33, 42, 1, 62};
constexpr std::uint8_t kPacked[12] = {0x41, 0xC2, 0x03, 0xC4, 0x80, 0x85, 0x0A, 0xD4, 0x11, 0xA5, 0x16, 0xEF};

TEST(Layout, Q4_K) {
  BlockQ4K b;
  b.d = 0x3c00;     // 1.0
  b.dmin = 0x3800;  // 0.5
  std::memcpy(b.scales, kPacked, 12);
  for (int i = 0; i < 128; ++i) b.qs[i] = static_cast<std::uint8_t>((i & 0xF) | (((i + 3) & 0xF) << 4));
  const auto y = decode(DType::Q4_K, &b, 256);
  EXPECT_EQ(y[5 * 32 + 7], 53.0f * 10 - 21.0f);  // chunk 2, high nibble of byte 71
  for (int c = 0; c < 4; ++c) {
    for (int l = 0; l < 32; ++l) {
      const int byte = 32 * c + l;
      EXPECT_EQ(y[64 * c + l], kSc[2 * c] * (byte & 0xF) - 0.5f * kMin[2 * c]);
      EXPECT_EQ(y[64 * c + 32 + l], kSc[2 * c + 1] * ((byte + 3) & 0xF) - 0.5f * kMin[2 * c + 1]);
    }
  }
}

TEST(Layout, Q5_K) {
  BlockQ5K b;
  b.d = 0x3c00;
  b.dmin = 0x3800;
  std::memcpy(b.scales, kPacked, 12);
  for (int i = 0; i < 32; ++i) b.qh[i] = static_cast<std::uint8_t>(i * 37);
  for (int i = 0; i < 128; ++i) b.qs[i] = static_cast<std::uint8_t>((i & 0xF) | (((i + 3) & 0xF) << 4));
  const auto y = decode(DType::Q5_K, &b, 256);
  // value 64 * 3 + 32 + 1: high nibble of byte 97 (= 4), fifth bit = bit 7 of qh[1] = 37 (0).
  EXPECT_EQ(y[225], 63.0f * 4 - 31.0f);
  for (int c = 0; c < 4; ++c) {
    for (int l = 0; l < 32; ++l) {
      const int byte = 32 * c + l;
      const int lo = (byte & 0xF) | (((b.qh[l] >> (2 * c)) & 1) << 4);
      const int hi = ((byte + 3) & 0xF) | (((b.qh[l] >> (2 * c + 1)) & 1) << 4);
      EXPECT_EQ(y[64 * c + l], kSc[2 * c] * lo - 0.5f * kMin[2 * c]);
      EXPECT_EQ(y[64 * c + 32 + l], kSc[2 * c + 1] * hi - 0.5f * kMin[2 * c + 1]);
    }
  }
}

TEST(Layout, Q6_K) {
  BlockQ6K b;
  b.d = 0x3400;  // 0.25
  for (int k = 0; k < 16; ++k) b.scales[k] = static_cast<std::int8_t>(k - 8);
  for (int i = 0; i < 128; ++i) b.ql[i] = static_cast<std::uint8_t>(i * 7);
  for (int i = 0; i < 64; ++i) b.qh[i] = static_cast<std::uint8_t>(i * 13);
  const auto y = decode(DType::Q6_K, &b, 256);
  // value 128 + 64 + 2: high nibble of ql[64 + 2] = 462 & 255 = 0xCE -> 12; bits 4-5 of
  // qh[32 + 2] = 442 & 255 = 0xBA -> 3; q = 60; scale index 12 -> 4.
  EXPECT_EQ(y[194], 0.25f * 4 * (60 - 32));
  for (int h = 0; h < 2; ++h) {
    for (int k = 0; k < 4; ++k) {
      for (int l = 0; l < 32; ++l) {
        const std::uint8_t byte = b.ql[64 * h + 32 * (k & 1) + l];
        const int q = (k < 2 ? byte & 0xF : byte >> 4) | (((b.qh[32 * h + l] >> (2 * k)) & 3) << 4);
        const int i = 128 * h + 32 * k + l;
        EXPECT_EQ(y[i], 0.25f * b.scales[i / 16] * static_cast<float>(q - 32)) << i;
      }
    }
  }
}

}  // namespace
}  // namespace dsv2::kernels
