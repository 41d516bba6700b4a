// AVX-512 activation quantizers; bit-identical to the scalar ones in act.cpp.
#include "kernels/avx512_util.h"
#include "kernels/isa_impl.h"

namespace dsv2::kernels::avx512 {

namespace {

// 16 floats -> int8 q = round(x * id) clamped to +-127 (the scalar reference's order of ops).
inline __m128i quantize16(__m512 v, __m512 id, __m512i* q32) {
  __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(v, id));
  q = _mm512_max_epi32(_mm512_min_epi32(q, _mm512_set1_epi32(127)), _mm512_set1_epi32(-127));
  *q32 = q;
  return _mm512_cvtsepi32_epi8(q);
}

// Quantizes nv * 16 values (a block); returns the scale, fills per-16 sums.
template <int NV>
float quantize_block(const float* x, std::int8_t* qs, std::int32_t* sums16) {
  __m512 v[NV];
  __m512 amax = _mm512_setzero_ps();
  for (int k = 0; k < NV; ++k) {
    v[k] = _mm512_loadu_ps(x + 16 * k);
    amax = _mm512_max_ps(amax, _mm512_abs_ps(v[k]));
  }
  const float m = _mm512_reduce_max_ps(amax);
  const __m512 id = _mm512_set1_ps(m > 0.0f ? 127.0f / m : 0.0f);
  for (int k = 0; k < NV; ++k) {
    __m512i q32;
    _mm_storeu_si128(reinterpret_cast<__m128i*>(qs + 16 * k), quantize16(v[k], id, &q32));
    sums16[k] = _mm512_reduce_add_epi32(q32);
  }
  return m / 127.0f;
}

}  // namespace

void quantize_act_bf16(const float* x, std::int64_t n, void* dst) {
  auto* y = static_cast<std::uint16_t*>(dst);
  std::int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(x + i)));
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    _mm256_mask_storeu_epi16(y + i, m, (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, x + i)));
  }
}

void quantize_act_q8_0(const float* x, std::int64_t n, void* dst) {
  auto* qs = static_cast<std::int8_t*>(dst);
  auto* d = reinterpret_cast<float*>(qs + n);
  auto* sum = reinterpret_cast<std::int32_t*>(d + n / kQK);
  for (std::int64_t b = 0; b < n / kQK; ++b) {
    std::int32_t s[2];
    d[b] = quantize_block<2>(x + b * kQK, qs + b * kQK, s);
    sum[b] = s[0] + s[1];
  }
}

void quantize_act_q8_k(const float* x, std::int64_t n, void* dst) {
  auto* blocks = static_cast<BlockQ8K*>(dst);
  for (std::int64_t b = 0; b < n / kQKK; ++b) {
    std::int32_t s[16];
    blocks[b].d = quantize_block<16>(x + b * kQKK, blocks[b].qs, s);
    for (int k = 0; k < 16; ++k) blocks[b].bsums[k] = static_cast<std::int16_t>(s[k]);
  }
}

}  // namespace dsv2::kernels::avx512
