// The scalar reference kernels of the row-interleaved layouts (blocks.h); the conversions are in
// interleaved.cpp. Every kernel of these layouts computes each output as the same float
// operations in the same order, y = fma(float(integer block dot), d_w * d_x, y) block after
// block (Q4_K: then y = fma(-float(integer min sum), dmin_w * d_x, y)), so SIMD and scalar
// results are bit-identical and do not depend on the tile or thread split.
#include <cmath>
#include <cstring>
#include <type_traits>

#include "kernels/isa_impl.h"
#include "kernels/quant_impl.h"

namespace dsv2::kernels {

namespace scalar {

namespace {

// y[c * ldy + i0 + r] for the 16 rows of one group and activation row c; Dot(block, r, x, b) is
// the integer dot product of row r's block b with activation block b. Blocks with mins (Q5_1)
// then add m_w * d_x * (activation block sum).
template <class Block, class Act, std::int32_t (*Dot)(const Block&, int, const Act&, std::int64_t)>
void gemm_groups(const GemmArgs& a, Act (*act_row)(const void*, std::int64_t)) {
  const std::int64_t nb = a.n / kQK;
  for (std::int64_t i0 = 0; i0 < a.nw; i0 += kRowGroup) {
    const auto* w = reinterpret_cast<const Block*>(a.w + i0 * a.w_stride);
    for (std::int64_t c = 0; c < a.nx; ++c) {
      const Act x = act_row(a.x + c * a.x_stride, a.n);
      for (int r = 0; r < kRowGroup; ++r) {
        float acc = 0.0f;
        for (std::int64_t b = 0; b < nb; ++b) {
          acc = std::fma(static_cast<float>(Dot(w[b], r, x, b)), f16_to_f32(w[b].d[r]) * x.d[b], acc);
          if constexpr (requires { w[b].m; })
            acc = std::fma(static_cast<float>(x.sum[b]), f16_to_f32(w[b].m[r]) * x.d[b], acc);
        }
        a.y[c * a.ldy + i0 + r] = acc;
      }
    }
  }
}

std::int32_t dot_q4_0x16(const BlockQ4_0x16& w, int r, const ActQ8_0Row& x, std::int64_t b) {
  const std::int8_t* q = x.qs + b * kQK;
  std::int32_t s = -8 * x.sum[b];  // the "- 8" offset of every weight, applied once
  for (int k = 0; k < 4; ++k)
    for (int j = 0; j < 4; ++j) {
      const std::uint8_t v = w.qs[k][r][j];
      s += (v & 0xF) * q[4 * k + j] + (v >> 4) * q[4 * k + j + 16];
    }
  return s;
}

template <class Block>
std::int32_t dot_q5x16(const Block& w, int r, const ActQ8_0Row& x, std::int64_t b) {
  const std::int8_t* q = x.qs + b * kQK;
  // Q5_0's "- 16" offset of every weight, applied once (Q5_1's min comes after, in float)
  std::int32_t s = std::is_same_v<Block, BlockQ5_0x16> ? -16 * x.sum[b] : 0;
  for (int k = 0; k < 4; ++k)
    for (int j = 0; j < 4; ++j) {
      const std::uint8_t v = w.qs[k][r][j];
      const int lo = (v & 0xF) | static_cast<int>((w.hmask[k][0] >> (4 * r + j)) & 1) << 4;
      const int hi = (v >> 4) | static_cast<int>((w.hmask[k][1] >> (4 * r + j)) & 1) << 4;
      s += lo * q[4 * k + j] + hi * q[4 * k + j + 16];
    }
  return s;
}

std::int32_t dot_q8_0x16(const BlockQ8_0x16& w, int r, const ActQ16_0Row& x, std::int64_t b) {
  const std::int16_t* q = x.qs + b * kQK;
  std::int32_t s = 0;
  for (int p = 0; p < kQK / 2; ++p) s += w.qs[p][r][0] * q[2 * p] + w.qs[p][r][1] * q[2 * p + 1];
  return s;
}

// Row r's super-block b against Q8_K block x: acc = fma(isum, d * dx, acc), then
// fma(-msum, dmin * dx, acc), with the integer sums of dot_superblock_k4 (Q5_K: plus 16 for
// each value whose fifth bit is set).
template <class Block>
float k4x16_block(const Block& w, int r, const BlockQ8K& x, float acc) {
  std::uint8_t packed[12], sc[8], m[8];
  for (int k = 0; k < 3; ++k) std::memcpy(packed + 4 * k, &w.scales[k][r], 4);
  unpack_scales_k4(packed, sc, m);
  std::int32_t isum = 0, msum = 0;
  for (int c = 0; c < 4; ++c) {
    std::int32_t lo = 0, hi = 0;
    for (int p = 0; p < 8; ++p)
      for (int j = 0; j < 4; ++j) {
        const std::uint8_t v = w.qs[c][p][r][j];
        int vl = v & 0xF, vh = v >> 4;
        if constexpr (std::is_same_v<Block, BlockQ5_Kx16>) {
          vl |= static_cast<int>((w.hmask[c][p][0] >> (4 * r + j)) & 1) << 4;
          vh |= static_cast<int>((w.hmask[c][p][1] >> (4 * r + j)) & 1) << 4;
        }
        lo += vl * x.qs[64 * c + 4 * p + j];
        hi += vh * x.qs[64 * c + 32 + 4 * p + j];
      }
    isum += sc[2 * c] * lo + sc[2 * c + 1] * hi;
  }
  for (int j = 0; j < 8; ++j) msum += m[j] * (x.bsums[2 * j] + x.bsums[2 * j + 1]);
  acc = std::fma(static_cast<float>(isum), f16_to_f32(w.d[r]) * x.d, acc);
  return std::fma(-static_cast<float>(msum), f16_to_f32(w.dmin[r]) * x.d, acc);
}

// Row r's super-block b against Q8_K block x: isum = sum over sub-blocks s of
// sc_s * (dot_s - 32 * bsum_s) (the "- 32" via the activation sums), then one fma.
float q6_kx16_block(const BlockQ6_Kx16& w, int r, const BlockQ8K& x, float acc) {
  std::int32_t isum = 0;
  for (int t = 0; t < 8; ++t)
    for (int s = 0; s < 2; ++s) {
      std::int32_t dot = 0;
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) dot += q6_kx16_value(w, 4 * t + i, s, r, j) * x.qs[32 * t + 16 * s + 4 * i + j];
      isum += w.scales[2 * t + s][r] * (dot - 32 * x.bsums[2 * t + s]);
    }
  return std::fma(static_cast<float>(isum), f16_to_f32(w.d[r]) * x.d, acc);
}

template <class Block, float (*BlockFn)(const Block&, int, const BlockQ8K&, float)>
void gemm_k_groups(const GemmArgs& a) {
  const std::int64_t nb = a.n / kQKK;
  for (std::int64_t i0 = 0; i0 < a.nw; i0 += kRowGroup) {
    const auto* w = reinterpret_cast<const Block*>(a.w + i0 * a.w_stride);
    for (std::int64_t c = 0; c < a.nx; ++c) {
      const auto* x = reinterpret_cast<const BlockQ8K*>(a.x + c * a.x_stride);
      for (int r = 0; r < kRowGroup; ++r) {
        float acc = 0.0f;
        for (std::int64_t b = 0; b < nb; ++b) acc = BlockFn(w[b], r, x[b], acc);
        a.y[c * a.ldy + i0 + r] = acc;
      }
    }
  }
}

}  // namespace

void gemm_q4_k_r16(const GemmArgs& a) { gemm_k_groups<BlockQ4_Kx16, k4x16_block<BlockQ4_Kx16>>(a); }
void gemm_q5_k_r16(const GemmArgs& a) { gemm_k_groups<BlockQ5_Kx16, k4x16_block<BlockQ5_Kx16>>(a); }
void gemm_q6_k_r16(const GemmArgs& a) { gemm_k_groups<BlockQ6_Kx16, q6_kx16_block>(a); }
void gemm_q4_0_r16(const GemmArgs& a) { gemm_groups<BlockQ4_0x16, ActQ8_0Row, dot_q4_0x16>(a, act_q8_0_row); }
void gemm_q8_0_r16(const GemmArgs& a) { gemm_groups<BlockQ8_0x16, ActQ16_0Row, dot_q8_0x16>(a, act_q16_0_row); }
void gemm_q5_0_r16(const GemmArgs& a) { gemm_groups<BlockQ5_0x16, ActQ8_0Row, dot_q5x16<BlockQ5_0x16>>(a, act_q8_0_row); }
void gemm_q5_1_r16(const GemmArgs& a) { gemm_groups<BlockQ5_1x16, ActQ8_0Row, dot_q5x16<BlockQ5_1x16>>(a, act_q8_0_row); }

}  // namespace scalar
}  // namespace dsv2::kernels
