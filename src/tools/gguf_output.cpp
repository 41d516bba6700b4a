#include "tools/gguf_output.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "kernels/matmul.h"
#include "util/error.h"

namespace dsv2::tools {

DType gguf_tensor_type(const std::string& name, const std::vector<std::int64_t>& shape, DType requested,
                       std::string* note) {
  // Norm vectors are tiny; the router decides which experts run, and llama.cpp never quantizes it.
  if (shape.size() <= 1 || name.ends_with("ffn_gate_inp.weight")) return DType::F32;
  const std::int64_t cols = shape.back();
  DType t = requested;
  if (cols % dtype_info(t).block_size != 0) {
    switch (t) {  // llama.cpp's fallbacks for K-quants
      case DType::Q4_K: t = DType::Q5_0; break;
      case DType::Q5_K: t = DType::Q5_1; break;
      case DType::Q6_K: t = DType::Q8_0; break;
      default: break;
    }
  }
  if (cols % dtype_info(t).block_size != 0) t = DType::F16;
  if (t != requested && note)
    *note = name + ": row length " + std::to_string(cols) + " is not a multiple of " +
            std::to_string(dtype_info(requested).block_size) + ", stored as " + std::string(dtype_name(t)) +
            " instead of " + std::string(dtype_name(requested));
  return t;
}

std::uint32_t llama_file_type(DType t) {
  switch (t) {
    case DType::F32: return 0;
    case DType::F16: return 1;
    case DType::Q4_0: return 2;
    case DType::Q8_0: return 7;
    case DType::Q5_0: return 8;
    case DType::Q5_1: return 9;
    case DType::Q4_K: return 14;  // Q4_K_S: every matrix Q4_K
    case DType::Q5_K: return 16;  // Q5_K_S
    case DType::Q6_K: return 18;
    case DType::BF16: return 32;
    default: throw Error("no GGUF file type for " + std::string(dtype_name(t)));
  }
}

GgufRowStream::GgufRowStream(GgufWriter& writer, DType type, std::int64_t cols)
    : writer_(writer), type_(type), cols_(cols) {}

void GgufRowStream::write(const float* values, std::size_t count) {
  const auto cols = static_cast<std::size_t>(cols_);
  auto emit = [&](const float* rows, std::size_t n_rows) {
    out_.resize(n_rows * row_bytes(type_, cols_));
    quantize_rows(type_, rows, static_cast<std::int64_t>(n_rows), cols_, out_.data());
    writer_.write_tensor_chunk(out_.data(), out_.size());
  };
  if (!carry_.empty()) {  // complete the row left over from the last call
    const std::size_t take = std::min(count, cols - carry_.size());
    carry_.insert(carry_.end(), values, values + take);
    values += take;
    count -= take;
    if (carry_.size() < cols) return;
    emit(carry_.data(), 1);
    carry_.clear();
  }
  if (count / cols > 0) emit(values, count / cols);
  carry_.assign(values + count / cols * cols, values + count);
}

GgufProgress::GgufProgress(std::string tool, std::size_t n_tensors, bool enabled)
    : tool_(std::move(tool)), n_(n_tensors), enabled_(enabled), tty_(isatty(2) != 0) {}

void GgufProgress::tensor(std::size_t index, const std::string& name, DType type, std::uint64_t bytes) {
  if (!enabled_) return;
  std::fprintf(stderr, "%s%s: tensor %zu/%zu, %.2f GB written  %-36s %-5s%s", tty_ ? "\r" : "", tool_.c_str(),
               index + 1, n_, static_cast<double>(bytes) / 1e9, name.c_str(),
               std::string(dtype_name(type)).c_str(), tty_ ? "" : "\n");
  std::fflush(stderr);
}

void GgufProgress::note(const std::string& line) {
  if (enabled_) std::fprintf(stderr, "%s%s: %s\n", tty_ ? "\n" : "", tool_.c_str(), line.c_str());
}

void GgufProgress::done(std::uint64_t bytes) {
  if (enabled_) std::fprintf(stderr, "%s%s: done, %.2f GB\n", tty_ ? "\n" : "", tool_.c_str(), static_cast<double>(bytes) / 1e9);
}

}  // namespace dsv2::tools
