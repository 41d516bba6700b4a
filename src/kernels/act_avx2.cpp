// AVX2 activation quantizers; bit-identical to the scalar ones in act.cpp.
#include <immintrin.h>

#include "kernels/avx2_util.h"
#include "kernels/isa_impl.h"

namespace dsv2::kernels::avx2 {

namespace {

// Quantizes 32 * NG values; returns the scale and the sum of each 16 values.
template <int NG>
float quantize_block(const float* x, std::int8_t* qs, std::int32_t* sums16) {
  __m256 v[4 * NG];
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  __m256 amax = _mm256_setzero_ps();
  for (int k = 0; k < 4 * NG; ++k) {
    v[k] = _mm256_loadu_ps(x + 8 * k);
    amax = _mm256_max_ps(amax, _mm256_and_ps(v[k], abs_mask));
  }
  __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
  m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
  m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
  const float m = _mm_cvtss_f32(m4);
  const __m256 id = _mm256_set1_ps(m > 0.0f ? 127.0f / m : 0.0f);
  for (int g = 0; g < NG; ++g) {
    __m256i q[4];
    for (int k = 0; k < 4; ++k) {
      q[k] = _mm256_cvtps_epi32(_mm256_mul_ps(v[4 * g + k], id));
      q[k] = _mm256_max_epi32(_mm256_min_epi32(q[k], _mm256_set1_epi32(127)), _mm256_set1_epi32(-127));
    }
    sums16[2 * g] = hsum_i32(_mm256_add_epi32(q[0], q[1]));
    sums16[2 * g + 1] = hsum_i32(_mm256_add_epi32(q[2], q[3]));
    // the packs work per 128-bit lane; the final permute restores value order
    const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(qs + 32 * g),
                        _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
  }
  return m / 127.0f;
}

}  // namespace

void quantize_act_bf16(const float* x, std::int64_t n, void* dst) {
  auto* y = static_cast<std::uint16_t*>(dst);
  std::int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256i r[2];
    for (int k = 0; k < 2; ++k) {  // round to nearest even, as f32_to_bf16
      const __m256i b = _mm256_castps_si256(_mm256_loadu_ps(x + i + 8 * k));
      const __m256i odd = _mm256_and_si256(_mm256_srli_epi32(b, 16), _mm256_set1_epi32(1));
      r[k] = _mm256_srli_epi32(_mm256_add_epi32(b, _mm256_add_epi32(_mm256_set1_epi32(0x7fff), odd)), 16);
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), _mm256_permute4x64_epi64(_mm256_packus_epi32(r[0], r[1]), 0xD8));
  }
  for (; i < n; ++i) y[i] = f32_to_bf16(x[i]);
}

void quantize_act_q8_0(const float* x, std::int64_t n, void* dst) {
  auto* qs = static_cast<std::int8_t*>(dst);
  auto* d = reinterpret_cast<float*>(qs + n);
  auto* sum = reinterpret_cast<std::int32_t*>(d + n / kQK);
  for (std::int64_t b = 0; b < n / kQK; ++b) {
    std::int32_t s[2];
    d[b] = quantize_block<1>(x + b * kQK, qs + b * kQK, s);
    sum[b] = s[0] + s[1];
  }
}

void quantize_act_q8_k(const float* x, std::int64_t n, void* dst) {
  auto* blocks = static_cast<BlockQ8K*>(dst);
  for (std::int64_t b = 0; b < n / kQKK; ++b) {
    std::int32_t s[16];
    blocks[b].d = quantize_block<8>(x + b * kQKK, blocks[b].qs, s);
    for (int k = 0; k < 16; ++k) blocks[b].bsums[k] = static_cast<std::int16_t>(s[k]);
  }
}

}  // namespace dsv2::kernels::avx2
