// Q4_K: 256-value super-blocks of 8 sub-blocks with 6-bit scales and mins. Reference quantizer
// (shared with Q5_K), dequantizer and scalar kernel.
#include <algorithm>
#include <cmath>

#include "kernels/isa_impl.h"
#include "kernels/quant_impl.h"
#include "kernels/tile.h"

namespace dsv2::kernels {

void unpack_scales_k4(const std::uint8_t* scales, std::uint8_t* sc, std::uint8_t* m) {
  for (int j = 0; j < 8; ++j) unpack_scale_min_k4(scales, j, &sc[j], &m[j]);
}

// Inverse of unpack_scale_min_k4 for all 8 (scale, min) pairs.
static void pack_scales_k4(const std::uint8_t* sc, const std::uint8_t* m, std::uint8_t* s) {
  for (int j = 0; j < 4; ++j) {
    s[j] = static_cast<std::uint8_t>(sc[j] | ((sc[j + 4] >> 4) << 6));
    s[j + 4] = static_cast<std::uint8_t>(m[j] | ((m[j + 4] >> 4) << 6));
    s[j + 8] = static_cast<std::uint8_t>((sc[j + 4] & 0xF) | ((m[j + 4] & 0xF) << 4));
  }
}

static std::uint8_t quantize_6bit(float v, float inv) {
  return static_cast<std::uint8_t>(std::min(63, round_even(v * inv)));
}

void quantize_superblock_k4(const float* x, int nmax, std::uint16_t* d, std::uint16_t* dmin,
                            std::uint8_t* scales, std::uint8_t* L) {
  float sc[8], mn[8], max_sc = 0.0f, max_mn = 0.0f;
  for (int j = 0; j < 8; ++j) {
    fit_scale_min(x + 32 * j, 32, nmax, &sc[j], &mn[j], L + 32 * j);
    max_sc = std::fmax(max_sc, sc[j]);
    max_mn = std::fmax(max_mn, mn[j]);
  }
  const float inv_sc = max_sc > 0.0f ? 63.0f / max_sc : 0.0f;
  const float inv_mn = max_mn > 0.0f ? 63.0f / max_mn : 0.0f;
  std::uint8_t isc[8], imn[8];
  for (int j = 0; j < 8; ++j) {
    isc[j] = quantize_6bit(sc[j], inv_sc);
    imn[j] = quantize_6bit(mn[j], inv_mn);
  }
  pack_scales_k4(isc, imn, scales);
  *d = f32_to_f16(max_sc / 63.0f);
  *dmin = f32_to_f16(max_mn / 63.0f);
  const float df = f16_to_f32(*d), dminf = f16_to_f32(*dmin);
  for (int j = 0; j < 8; ++j) {
    const float s = df * isc[j], m = dminf * imn[j];
    for (int i = 0; i < 32; ++i) {
      const int v = s > 0.0f ? round_even((x[32 * j + i] + m) / s) : 0;
      L[32 * j + i] = static_cast<std::uint8_t>(std::clamp(v, 0, nmax));
    }
  }
}

void quantize_row_q4_k(const float* x, std::int64_t n, void* dst) {
  auto* out = static_cast<BlockQ4K*>(dst);
  for (std::int64_t b = 0; b < n / kQKK; ++b, x += kQKK) {
    std::uint8_t L[kQKK];
    quantize_superblock_k4(x, 15, &out[b].d, &out[b].dmin, out[b].scales, L);
    for (int c = 0; c < 4; ++c)
      for (int l = 0; l < 32; ++l)
        out[b].qs[32 * c + l] = static_cast<std::uint8_t>(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
  }
}

// The 256 4-bit values of a super-block, in order.
static void unpack_q4k(const BlockQ4K& b, std::uint8_t* L) {
  for (int c = 0; c < 4; ++c) {
    for (int l = 0; l < 32; ++l) {
      L[64 * c + l] = b.qs[32 * c + l] & 0xF;
      L[64 * c + 32 + l] = b.qs[32 * c + l] >> 4;
    }
  }
}

void dequantize_superblock_k4(std::uint16_t d16, std::uint16_t dmin16, const std::uint8_t* scales,
                              const std::uint8_t* L, float* y) {
  std::uint8_t sc[8], m[8];
  unpack_scales_k4(scales, sc, m);
  const float d = f16_to_f32(d16), dmin = f16_to_f32(dmin16);
  for (int i = 0; i < kQKK; ++i) y[i] = d * sc[i / 32] * L[i] - dmin * m[i / 32];
}

void dequantize_row_q4_k(const void* src, std::int64_t n, float* y) {
  const auto* in = static_cast<const BlockQ4K*>(src);
  for (std::int64_t b = 0; b < n / kQKK; ++b, y += kQKK) {
    std::uint8_t L[kQKK];
    unpack_q4k(in[b], L);
    dequantize_superblock_k4(in[b].d, in[b].dmin, in[b].scales, L, y);
  }
}

float dot_superblock_k4(std::uint16_t d, std::uint16_t dmin, const std::uint8_t* scales,
                        const std::uint8_t* L, const BlockQ8K& x) {
  std::uint8_t sc[8], m[8];
  unpack_scales_k4(scales, sc, m);
  std::int32_t isum = 0, msum = 0;
  for (int j = 0; j < 8; ++j) {
    std::int32_t s = 0;
    for (int i = 32 * j; i < 32 * j + 32; ++i) s += L[i] * x.qs[i];
    isum += sc[j] * s;
    msum += m[j] * (x.bsums[2 * j] + x.bsums[2 * j + 1]);
  }
  return x.d * (f16_to_f32(d) * static_cast<float>(isum) - f16_to_f32(dmin) * static_cast<float>(msum));
}

namespace scalar {

static float dot_q4_k(std::int64_t n, const std::uint8_t* w, const std::uint8_t* x) {
  const auto* wb = reinterpret_cast<const BlockQ4K*>(w);
  const auto* xb = reinterpret_cast<const BlockQ8K*>(x);
  float sum = 0.0f;
  for (std::int64_t b = 0; b < n / kQKK; ++b) {
    std::uint8_t L[kQKK];
    unpack_q4k(wb[b], L);
    sum += dot_superblock_k4(wb[b].d, wb[b].dmin, wb[b].scales, L, xb[b]);
  }
  return sum;
}

void gemm_q4_k(const GemmArgs& args) { gemm_pairs<dot_q4_k>(args); }

}  // namespace scalar
}  // namespace dsv2::kernels
