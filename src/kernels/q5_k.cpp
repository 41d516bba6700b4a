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
    std::uint8_t L[kQKK];
    unpack_q5k(in[b], L);
    dequantize_superblock_k4(in[b].d, in[b].dmin, in[b].scales, L, y);
  }
}

namespace scalar {

static float dot_q5_k(std::int64_t n, const std::uint8_t* w, const std::uint8_t* x) {
  const auto* wb = reinterpret_cast<const BlockQ5K*>(w);
  const auto* xb = reinterpret_cast<const BlockQ8K*>(x);
  float sum = 0.0f;
  for (std::int64_t b = 0; b < n / kQKK; ++b) {
    std::uint8_t L[kQKK];
    unpack_q5k(wb[b], L);
    sum += dot_superblock_k4(wb[b].d, wb[b].dmin, wb[b].scales, L, xb[b]);
  }
  return sum;
}

void gemm_q5_k(const GemmArgs& args) { gemm_pairs<dot_q5_k>(args); }

}  // namespace scalar
}  // namespace dsv2::kernels
