// AVX2 activation quantizers; bit-identical to the scalar ones in act.cpp.
#include <immintrin.h>

#include "kernels/act_rows.h"
#include "kernels/avx2_util.h"
#include "kernels/isa_impl.h"

namespace dsv2::kernels::avx2 {

namespace {

// Stores 32 quantized values q[0..3] (8 each, in order) as int8 or int16. The packs work per
// 128-bit lane; the permutes restore value order.
inline void store32(std::int8_t* p, const __m256i* q) {
  const __m256i b = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm256_permutevar8x32_epi32(b, order));
}
inline void store32(std::int16_t* p, const __m256i* q) {
  for (int h = 0; h < 2; ++h)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p + 16 * h),
                        _mm256_permute4x64_epi64(_mm256_packs_epi32(q[2 * h], q[2 * h + 1]), 0xD8));
}

inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  return _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
}

// The block quantizer act_rows.h asks for.
struct Block {
  template <class Q, int kMax, int kN>
  static float quantize(const float* x, Q* qs, std::int32_t* sums16) {
    constexpr int NG = kN / 32;
    __m256 v[4 * NG];
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 amax = _mm256_setzero_ps();
    for (int k = 0; k < 4 * NG; ++k) {
      v[k] = _mm256_loadu_ps(x + 8 * k);
      amax = _mm256_max_ps(amax, _mm256_and_ps(v[k], abs_mask));
    }
    const float m = hmax(amax);
    const __m256 id = _mm256_set1_ps(m > 0.0f ? static_cast<float>(kMax) / m : 0.0f);
    for (int g = 0; g < NG; ++g) {
      __m256i q[4];
      for (int k = 0; k < 4; ++k) {
        q[k] = _mm256_cvtps_epi32(_mm256_mul_ps(v[4 * g + k], id));
        q[k] = _mm256_max_epi32(_mm256_min_epi32(q[k], _mm256_set1_epi32(kMax)), _mm256_set1_epi32(-kMax));
      }
      if (sums16 != nullptr) {
        sums16[2 * g] = hsum_i32(_mm256_add_epi32(q[0], q[1]));
        sums16[2 * g + 1] = hsum_i32(_mm256_add_epi32(q[2], q[3]));
      }
      store32(qs + 32 * g, q);
    }
    return m / static_cast<float>(kMax);
  }
};

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

void quantize_act_q8_0(const float* x, std::int64_t n, void* dst) { act_rows_q8_0<Block>(x, n, dst); }
void quantize_act_q16_0(const float* x, std::int64_t n, void* dst) { act_rows_q16_0<Block>(x, n, dst); }
void quantize_act_q8_k(const float* x, std::int64_t n, void* dst) { act_rows_q8_k<Block>(x, n, dst); }

}  // namespace dsv2::kernels::avx2
