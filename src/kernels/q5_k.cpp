// Q5_K: Q4_K with a fifth bit per value in qh. Reference quantizer, dequantizer, scalar kernel.
#include "kernels/isa_impl.h"
#include "kernels/quant_impl.h"
#include "kernels/tile.h"

namespace dsv2::kernels {

void quantize_row_q5_k(const float* x, std::int64_t n, void* dst) {
  auto* out = static_cast<BlockQ5K*>(dst);
  for (std::int64_t b = 0; b < n / kQKK; ++b, x += kQKK) {
    std::uint8_t L[kQKK];
    quantize_superblock_k4(x, 31, &out[b].d, &out[b].dmin, out[b].scales, L);
    for (int l = 0; l < 32; ++l) out[b].qh[l] = 0;
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        const int lo = L[64 * c + l], hi = L[64 * c + 32 + l];
        out[b].qs[32 * c + l] = static_cast<std::uint8_t>((lo & 0xF) | ((hi & 0xF) << 4));
        out[b].qh[l] |= static_cast<std::uint8_t>(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
      }
    }
  }
}

static void unpack_q5k(const BlockQ5K& b, std::uint8_t* L) {
  for (int c = 0; c < 4; ++c) {
    for (int l = 0; l < 32; ++l) {
      L[64 * c + l] = static_cast<std::uint8_t>((b.qs[32 * c + l] & 0xF) | (((b.qh[l] >> (2 * c)) & 1) << 4));
      L[64 * c + 32 + l] =
          static_cast<std::uint8_t>((b.qs[32 * c + l] >> 4) | (((b.qh[l] >> (2 * c + 1)) & 1) << 4));
    }
  }
}

void dequantize_row_q5_k(const void* src, std::int64_t n, float* y) {
  const auto* in = static_cast<const BlockQ5K*>(src);
  for (std::int64_t b = 0; b < n / kQKK; ++b, y += kQKK) {
    std::uint8_t L[kQKK], sc[8], m[8];
    unpack_q5k(in[b], L);
    unpack_scales_k4(in[b].scales, sc, m);
    const float d = f16_to_f32(in[b].d), dmin = f16_to_f32(in[b].dmin);
    for (int i = 0; i < kQKK; ++i) y[i] = d * sc[i / 32] * L[i] - dmin * m[i / 32];
  }
}

namespace scalar {

static float dot_q5_k(std::int64_t n, const std::uint8_t* w, const std::uint8_t* x) {
  const auto* wb = reinterpret_cast<const BlockQ5K*>(w);
  const auto* xb = reinterpret_cast<const BlockQ8K*>(x);
  float sum = 0.0f;
  for (std::int64_t b = 0; b < n / kQKK; ++b) {
    std::uint8_t L[kQKK], sc[8], m[8];
    unpack_q5k(wb[b], L);
    unpack_scales_k4(wb[b].scales, sc, m);
    std::int32_t isum = 0, msum = 0;
    for (int j = 0; j < 8; ++j) {
      std::int32_t s = 0;
      for (int i = 32 * j; i < 32 * j + 32; ++i) s += L[i] * xb[b].qs[i];
      isum += sc[j] * s;
      msum += m[j] * (xb[b].bsums[2 * j] + xb[b].bsums[2 * j + 1]);
    }
    sum += xb[b].d * (f16_to_f32(wb[b].d) * static_cast<float>(isum) -
                      f16_to_f32(wb[b].dmin) * static_cast<float>(msum));
  }
  return sum;
}

void gemm_q5_k(const GemmArgs& args) { gemm_pairs<dot_q5_k>(args); }

}  // namespace scalar
}  // namespace dsv2::kernels
