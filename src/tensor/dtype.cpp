#include "tensor/dtype.h"

#include <array>
#include <bit>
#include <cctype>
#include <cmath>

namespace dsv2 {

namespace {
// Indexed by DType. Block sizes/bytes are ggml's: Q8_0 = f16 scale + 32 int8; Q4_0 = f16 + 16 bytes;
// K-quants are 256-value super-blocks.
constexpr std::array<DTypeInfo, kDTypeCount> kInfo = {{
    {"f32", 1, 4, 1},
    {"f16", 1, 2, 1},
    {"bf16", 1, 2, 1},
    {"q8_0", 32, 34, 1},
    {"q4_0", 32, 18, 1},
    {"q4_k", 256, 144, 1},
    {"q5_k", 256, 176, 1},
    {"q6_k", 256, 210, 1},
    {"i32", 1, 4, 1},
    {"i64", 1, 8, 1},
    {"q8_0_r16", 32, 34, 16},
    {"q4_0_r16", 32, 18, 16},
    {"q4_k_r16", 256, 144, 16},
    {"q5_0", 32, 22, 1},
    {"q5_1", 32, 24, 1},
    {"q5_0_r16", 32, 22, 16},
    {"q6_k_r16", 256, 210, 16},
    {"q5_1_r16", 32, 24, 16},
    {"q5_k_r16", 256, 176, 16},
}};
static_assert(!kInfo.back().name.empty(), "every DType needs its kInfo entry");
}  // namespace

const DTypeInfo& dtype_info(DType t) { return kInfo[static_cast<std::size_t>(t)]; }

bool dtype_from_name(std::string_view name, DType* out) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::size_t i = 0; i < kInfo.size(); ++i) {
    if (kInfo[i].name == lower && kInfo[i].row_group == 1) {
      *out = static_cast<DType>(i);
      return true;
    }
  }
  return false;
}

bool dtype_is_quantized(DType t) { return dtype_info(t).block_size > 1; }

std::size_t row_bytes(DType t, std::int64_t n) {
  const DTypeInfo& info = dtype_info(t);
  return static_cast<std::size_t>(n / info.block_size) * info.block_bytes;
}

float bf16_to_f32(std::uint16_t v) {
  return std::bit_cast<float>(static_cast<std::uint32_t>(v) << 16);
}

std::uint16_t f32_to_bf16(float f) {
  std::uint32_t bits = std::bit_cast<std::uint32_t>(f);
  if (std::isnan(f)) return static_cast<std::uint16_t>((bits >> 16) | 0x40);
  bits += 0x7fff + ((bits >> 16) & 1);  // round to nearest even
  return static_cast<std::uint16_t>(bits >> 16);
}

float f16_to_f32(std::uint16_t h) {
  std::uint32_t sign = (h & 0x8000u) << 16;
  std::uint32_t exp = (h >> 10) & 0x1f;
  std::uint32_t mant = h & 0x3ff;
  std::uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      exp = 127 - 15 + 1;
      while ((mant & 0x400) == 0) {
        mant <<= 1;
        --exp;
      }
      mant &= 0x3ff;
      bits = sign | (exp << 23) | (mant << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  return std::bit_cast<float>(bits);
}

std::uint16_t f32_to_f16(float f) {
  const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
  std::uint32_t sign = (x >> 16) & 0x8000u;
  std::uint32_t absx = x & 0x7fffffffu;
  if (absx >= 0x7f800000u) return static_cast<std::uint16_t>(sign | 0x7c00u | (absx > 0x7f800000u ? 0x200u : 0u));
  if (absx >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);  // overflow -> inf
  if (absx < 0x38800000u) {  // subnormal or zero in f16
    if (absx < 0x33000000u) return static_cast<std::uint16_t>(sign);
    std::uint32_t e = absx >> 23;
    std::uint32_t m = (absx & 0x7fffffu) | 0x800000u;
    std::uint32_t shift = 126 - e;  // 113 + 13 ... gives mantissa shift
    std::uint32_t half = m >> shift;
    std::uint32_t rem = m & ((1u << shift) - 1);
    std::uint32_t mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1))) ++half;
    return static_cast<std::uint16_t>(sign | half);
  }
  std::uint32_t h = ((absx >> 13) - (112u << 10));
  std::uint32_t rem = absx & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) ++h;
  return static_cast<std::uint16_t>(sign | h);
}

}  // namespace dsv2
