// Shared by `convert`, `quantize` and the GGUF synth sink: which type each tensor gets, and a
// row stream that quantizes float32 rows into the GGUF writer without holding a whole tensor.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "io/gguf_writer.h"
#include "tensor/dtype.h"

namespace dsv2::tools {

// The type a tensor is stored in when `requested` is asked for. As in llama.cpp: 1-D tensors
// (norms) and the MoE router (ffn_gate_inp) stay F32; a row length that is not a multiple of
// the requested block falls back as llama.cpp's quantizer does (Q4_K -> Q5_0, Q5_K -> Q5_1,
// Q6_K -> Q8_0, then F16 where even 32 does not divide the row). `note` says why, if it
// differs from the request for a reason other than the F32 rule.
DType gguf_tensor_type(const std::string& name, const std::vector<std::int64_t>& shape, DType requested,
                       std::string* note);

// llama.cpp's general.file_type (LLAMA_FTYPE_*) for a model whose matrices are mostly `t`.
std::uint32_t llama_file_type(DType t);

// Accepts float32 rows of one tensor and appends them to the writer in dtype `type`, in
// pieces (a partial row is carried to the next call).
class GgufRowStream {
 public:
  GgufRowStream(GgufWriter& writer, DType type, std::int64_t cols);
  void write(const float* values, std::size_t count);

 private:
  GgufWriter& writer_;
  DType type_;
  std::int64_t cols_;
  std::vector<float> carry_;
  std::vector<std::uint8_t> out_;
};

// "tensor i/N, X GB written" on stderr: one updating line on a terminal, a line per tensor
// otherwise.
class GgufProgress {
 public:
  GgufProgress(std::string tool, std::size_t n_tensors, bool enabled);
  void tensor(std::size_t index, const std::string& name, DType type, std::uint64_t bytes_written);
  void note(const std::string& line);  // on its own line
  void done(std::uint64_t bytes_written);

 private:
  std::string tool_;
  std::size_t n_;
  bool enabled_, tty_;
};

}  // namespace dsv2::tools
