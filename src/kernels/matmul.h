// Matrix products against weight tensors of any dtype. Kernels know shapes and dtypes, never
// which model layer they serve.
#pragma once
#include <cstdint>

#include "tensor/tensor.h"

namespace dsv2 {

class ThreadPool;

// y[r, o] = sum_i x[r, i] * w[o, i] for r in [0, rows): x is [rows, w.cols()] float32,
// y is [rows, w.rows()] float32. Accumulation in float32 (or wider).
void matmul(const Tensor& w, const float* x, std::int64_t rows, float* y,
            ThreadPool* pool = nullptr);

// Row r of w converted to float32 (embedding look-up, tests).
void dequantize_row(const Tensor& w, std::int64_t r, float* out);

}  // namespace dsv2
