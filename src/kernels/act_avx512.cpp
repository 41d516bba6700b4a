// AVX-512 activation quantizers; bit-identical to the scalar ones in act.cpp.
#include "kernels/act_rows.h"
#include "kernels/avx512_util.h"
#include "kernels/isa_impl.h"

namespace dsv2::kernels::avx512 {

namespace {

// 16 floats -> q = round(x * id) clamped to +-kMax (the scalar reference's order of ops).
template <int kMax>
inline __m512i quantize16(__m512 v, __m512 id) {
  const __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(v, id));
  return _mm512_max_epi32(_mm512_min_epi32(q, _mm512_set1_epi32(kMax)), _mm512_set1_epi32(-kMax));
}
inline void store16(std::int8_t* p, __m512i q) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm512_cvtsepi32_epi8(q));
}
inline void store16(std::int16_t* p, __m512i q) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm512_cvtsepi32_epi16(q));
}

// The block quantizer act_rows.h asks for.
struct Block {
  template <class Q, int kMax, int kN>
  static float quantize(const float* x, Q* qs, std::int32_t* sums16) {
    constexpr int NV = kN / 16;
    __m512 v[NV];
    __m512 amax = _mm512_setzero_ps();
    for (int k = 0; k < NV; ++k) {
      v[k] = _mm512_loadu_ps(x + 16 * k);
      amax = _mm512_max_ps(amax, _mm512_abs_ps(v[k]));
    }
    const float m = _mm512_reduce_max_ps(amax);
    const __m512 id = _mm512_set1_ps(m > 0.0f ? static_cast<float>(kMax) / m : 0.0f);
    for (int k = 0; k < NV; ++k) {
      const __m512i q = quantize16<kMax>(v[k], id);
      store16(qs + 16 * k, q);
      if (sums16 != nullptr) sums16[k] = _mm512_reduce_add_epi32(q);
    }
    return m / static_cast<float>(kMax);
  }
};

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

void quantize_act_q8_0(const float* x, std::int64_t n, void* dst) { act_rows_q8_0<Block>(x, n, dst); }
void quantize_act_q16_0(const float* x, std::int64_t n, void* dst) { act_rows_q16_0<Block>(x, n, dst); }
void quantize_act_q8_k(const float* x, std::int64_t n, void* dst) { act_rows_q8_k<Block>(x, n, dst); }

}  // namespace dsv2::kernels::avx512
