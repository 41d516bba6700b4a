// Shared helpers for the kernel tests: seeded random data, weight rows of any dtype.
#pragma once
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/matmul.h"
#include "tensor/dtype.h"

namespace dsv2::test {

// Every SIMD level this CPU (and build) can run, scalar first.
inline std::vector<kernels::Isa> supported_levels() {
  std::vector<kernels::Isa> out;
  for (kernels::Isa isa : {kernels::Isa::Scalar, kernels::Isa::Avx2, kernels::Isa::Avx512})
    if (kernels::isa_supported(isa)) out.push_back(isa);
  return out;
}

inline std::vector<float> random_floats(std::size_t n, std::uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& f : v) f = dist(rng);
  return v;
}

// rows x cols weights of type t, quantized from random floats.
struct Weights {
  DType type;
  std::int64_t rows, cols;
  std::vector<std::uint8_t> bytes;
  std::vector<float> dequant;  // what the kernels should see
  Tensor tensor() const { return Tensor{type, {rows, cols}, bytes.data()}; }
};

inline Weights make_weights(DType t, std::int64_t rows, std::int64_t cols, std::uint32_t seed) {
  Weights w{t, rows, cols, std::vector<std::uint8_t>(static_cast<std::size_t>(rows) * row_bytes(t, cols)),
            std::vector<float>(static_cast<std::size_t>(rows * cols))};
  const std::vector<float> src = random_floats(static_cast<std::size_t>(rows * cols), seed);
  quantize_rows(t, src.data(), rows, cols, w.bytes.data());
  const Tensor view = w.tensor();
  for (std::int64_t r = 0; r < rows; ++r) dequantize_row(view, r, w.dequant.data() + r * cols);
  return w;
}

// One activation row of n values in format f (not F32) decoded back to floats: what the integer
// kernels see.
inline std::vector<float> decode_act(kernels::ActFormat f, const std::uint8_t* q, std::int64_t n) {
  using kernels::ActFormat;
  std::vector<float> y(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    if (f == ActFormat::BF16) {
      y[i] = bf16_to_f32(reinterpret_cast<const std::uint16_t*>(q)[i]);
    } else if (f == ActFormat::Q8_0) {
      const kernels::ActQ8_0Row a = kernels::act_q8_0_row(q, n);
      y[i] = a.d[i / 32] * a.qs[i];
    } else if (f == ActFormat::Q16_0) {
      const kernels::ActQ16_0Row a = kernels::act_q16_0_row(q, n);
      y[i] = a.d[i / 32] * a.qs[i];
    } else {
      const auto* b = reinterpret_cast<const kernels::BlockQ8K*>(q) + i / 256;
      y[i] = b->d * b->qs[i % 256];
    }
  }
  return y;
}

inline const DType kMatmulTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q8_0, DType::Q4_0,
                                     DType::Q5_0, DType::Q5_1, DType::Q4_K, DType::Q5_K, DType::Q6_K};

// A column count valid for t that exercises tails: odd block counts, non-multiples of 16.
inline std::int64_t odd_cols(DType t) {
  switch (kernels::plain_type(t)) {
    case DType::Q8_0:
    case DType::Q4_0:
    case DType::Q5_0:
    case DType::Q5_1: return 32 * 17;
    case DType::Q4_K:
    case DType::Q5_K:
    case DType::Q6_K: return 256 * 3;
    default: return 203;
  }
}

}  // namespace dsv2::test
