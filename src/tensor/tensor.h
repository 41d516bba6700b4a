// A typed, shaped view of bytes owned elsewhere (a memory-mapped file or a buffer).
// Row-major; for weights the shape is [out, in] and each row is row_bytes(dtype, in) bytes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tensor/dtype.h"

namespace dsv2 {

struct Tensor {
  DType dtype = DType::F32;
  std::vector<std::int64_t> shape;
  const void* data = nullptr;

  std::int64_t dim(std::size_t i) const { return shape.at(i); }
  std::int64_t numel() const {
    std::int64_t n = 1;
    for (std::int64_t d : shape) n *= d;
    return n;
  }
  std::int64_t rows() const { return shape.empty() ? 1 : numel() / shape.back(); }
  std::int64_t cols() const { return shape.empty() ? 1 : shape.back(); }
  std::size_t row_stride() const { return row_bytes(dtype, cols()); }
  std::size_t nbytes() const { return static_cast<std::size_t>(rows()) * row_stride(); }
  // Row r's bytes; for interleaved dtypes (row_group > 1) only r on a group boundary is a start.
  const std::uint8_t* row(std::int64_t r) const {
    return static_cast<const std::uint8_t*>(data) + static_cast<std::size_t>(r) * row_stride();
  }
  // A view of rows [first, first + count) of a 2-D tensor.
  Tensor slice_rows(std::int64_t first, std::int64_t count) const {
    return Tensor{dtype, {count, cols()}, row(first)};
  }
};

std::string shape_str(const std::vector<std::int64_t>& shape);  // "[3, 4]"

}  // namespace dsv2
