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

inline const DType kMatmulTypes[] = {DType::F32, DType::F16, DType::BF16, DType::Q8_0,
                                     DType::Q4_0, DType::Q4_K, DType::Q5_K, DType::Q6_K};

// A column count valid for t that exercises tails: odd block counts, non-multiples of 16.
inline std::int64_t odd_cols(DType t) {
  switch (t) {
    case DType::Q8_0:
    case DType::Q4_0: return 32 * 17;
    case DType::Q4_K:
    case DType::Q5_K:
    case DType::Q6_K: return 256 * 3;
    default: return 203;
  }
}

}  // namespace dsv2::test
