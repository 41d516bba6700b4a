#include "kernels/matmul.h"

#include <cstring>
#include <vector>

#include "kernels/thread_pool.h"
#include "util/error.h"

namespace dsv2 {

void dequantize_row(const Tensor& w, std::int64_t r, float* out) {
  const std::int64_t n = w.cols();
  const std::uint8_t* p = w.row(r);
  switch (w.dtype) {
    case DType::F32:
      std::memcpy(out, p, static_cast<std::size_t>(n) * 4);
      return;
    case DType::BF16: {
      const auto* h = reinterpret_cast<const std::uint16_t*>(p);
      for (std::int64_t i = 0; i < n; ++i) out[i] = bf16_to_f32(h[i]);
      return;
    }
    case DType::F16: {
      const auto* h = reinterpret_cast<const std::uint16_t*>(p);
      for (std::int64_t i = 0; i < n; ++i) out[i] = f16_to_f32(h[i]);
      return;
    }
    default:
      throw Error(std::string("dequantize_row: unsupported dtype ") + std::string(dtype_name(w.dtype)));
  }
}

static float dot_f32(const float* a, const float* b, std::int64_t n) {
  float s = 0.0f;
  for (std::int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

void matmul(const Tensor& w, const float* x, std::int64_t rows, float* y, ThreadPool* pool) {
  const std::int64_t out = w.rows(), in = w.cols();
  auto work = [&](std::int64_t o0, std::int64_t o1, int) {
    std::vector<float> wrow(static_cast<std::size_t>(in));
    for (std::int64_t o = o0; o < o1; ++o) {
      const float* wr;
      if (w.dtype == DType::F32) {
        wr = reinterpret_cast<const float*>(w.row(o));
      } else {
        dequantize_row(w, o, wrow.data());
        wr = wrow.data();
      }
      for (std::int64_t r = 0; r < rows; ++r) y[r * out + o] = dot_f32(wr, x + r * in, in);
    }
  };
  if (pool) {
    pool->parallel_for(out, work);
  } else {
    work(0, out, 0);
  }
}

}  // namespace dsv2
