#include "tensor/dtype.h"

#include <gtest/gtest.h>

#include <cmath>

namespace dsv2 {

TEST(DType, Bf16RoundTripIsExactForRepresentableValues) {
  for (float f : {0.0f, 1.0f, -2.5f, 3.140625f, 65280.0f}) EXPECT_EQ(bf16_to_f32(f32_to_bf16(f)), f);
}

TEST(DType, Bf16RoundsToNearestEven) {
  // 1 + 2^-8 is exactly half-way between two bf16 values (1 and 1 + 2^-7): ties go to even (1).
  EXPECT_EQ(bf16_to_f32(f32_to_bf16(1.0f + std::ldexp(1.0f, -8))), 1.0f);
  EXPECT_EQ(bf16_to_f32(f32_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8))), 1.0f + std::ldexp(1.0f, -6));
}

TEST(DType, F16RoundTripAllFiniteValues) {
  for (std::uint32_t h = 0; h < 0x10000; ++h) {
    const auto v = static_cast<std::uint16_t>(h);
    float f = f16_to_f32(v);
    if (std::isnan(f)) continue;
    ASSERT_EQ(f32_to_f16(f), v) << "h=" << h;
  }
}

TEST(DType, F16KnownValues) {
  EXPECT_EQ(f16_to_f32(0x3c00), 1.0f);
  EXPECT_EQ(f16_to_f32(0xc000), -2.0f);
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(f32_to_f16(1e6f), 0x7c00);  // overflow to +inf
}

TEST(DType, RowBytesFollowGgmlBlockLayouts) {
  EXPECT_EQ(row_bytes(DType::F32, 10), 40u);
  EXPECT_EQ(row_bytes(DType::Q8_0, 64), 68u);
  EXPECT_EQ(row_bytes(DType::Q4_0, 64), 36u);
  EXPECT_EQ(row_bytes(DType::Q4_K, 512), 288u);
  EXPECT_EQ(row_bytes(DType::Q6_K, 256), 210u);
  DType t;
  ASSERT_TRUE(dtype_from_name("Q4_K", &t));
  EXPECT_EQ(t, DType::Q4_K);
  EXPECT_FALSE(dtype_from_name("q3_z", &t));
}

}  // namespace dsv2
