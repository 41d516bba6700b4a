// Matrix products against weight tensors of any dtype. Kernels know shapes and dtypes, never
// which model layer they serve.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "kernels/thread_pool.h"
#include "tensor/tensor.h"

namespace dsv2 {

// y[r, o] = sum_i x[r, i] * w[o, i] for r in [0, rows): x is [rows, w.cols()] float32,
// y is [rows, w.rows()] float32. Accumulation in float32 (or wider).
// Quantized weights: each row of x is first quantized to the 8- or 16-bit activation format of
// the weight type (into a per-thread scratch buffer that only ever grows), so dot products are
// integer. BF16 weights round x to bf16. Output rows are split over the pool's threads.
// `next`: what the caller reads in its next parallel step (ThreadPool::parallel_for).
void matmul(const Tensor& w, const float* x, std::int64_t rows, float* y,
            ThreadPool* pool = nullptr, std::span<const NextRead> next = {});

// Several products of the same x in one parallel step: y_k = x w_kᵀ for each output k (same
// w.cols(), any dtypes). Matrices read from one input (a layer's query and latent projections,
// an MLP's gate and up) then cost one dispatch instead of one each, the small ones stream as
// part of the large one, and x is converted once per activation format. Results are those of
// separate matmul calls.
struct MatmulOut {
  const Tensor* w;
  float* y;  // [rows, w->rows()]
};
void matmul_many(std::span<const MatmulOut> outs, const float* x, std::int64_t rows, ThreadPool* pool,
                 std::span<const NextRead> next = {});

// What a matmul (or matmul_many) over w reads, in its work units: the `next` of the step
// before it.
NextRead matmul_reads(const Tensor& w);

// The pieces of matmul, for callers that share one activation conversion between several
// matrices of the same dtype and width, or split work across matrices themselves:
// act_row_bytes(w, cols) bytes per activation row; quantize_acts converts rows of x into that
// format; matmul_part computes output columns [o0, o1) of y (row stride ldy) single-threaded.
// Each output element is one complete dot product, so results do not depend on how the work
// is split or which other rows are in x.
std::size_t act_row_bytes(DType w, std::int64_t cols);
void quantize_acts(DType w, const float* x, std::int64_t rows, std::int64_t cols, std::uint8_t* dst);
void matmul_part(const Tensor& w, const std::uint8_t* xq, std::int64_t rows, std::int64_t o0,
                 std::int64_t o1, float* y, std::int64_t ldy);

// Row r of w converted to float32 (embedding look-up, tests).
void dequantize_row(const Tensor& w, std::int64_t r, float* out);

// Converts rows x cols floats (row-major) to dtype t, row after row (cols must be a multiple of
// t's block size; rows of interleaved types a multiple of their row group); dst receives
// rows * row_bytes(t, cols) bytes. For converters and tests.
void quantize_rows(DType t, const float* src, std::int64_t rows, std::int64_t cols, void* dst);

// Rewrites a 2-D Q4_0 / Q8_0 matrix in place into its row-interleaved compute layout
// (kernels::interleaved_type; the kernels read it several times faster) and retypes w. Returns
// false, changing nothing, for other types or when rows are not a multiple of the row group.
// w.data must point into memory the caller owns and may write (a loaded, not mapped, file).
// Interleaved matrices are read only through matmul / matmul_part (row ranges on group
// boundaries) and dequantize_row.
bool interleave_in_place(Tensor& w);

}  // namespace dsv2
