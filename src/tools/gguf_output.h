// Shared by `convert`, `quantize` and the GGUF synth sink: which type each tensor gets, and a
// row stream that quantizes float32 rows into the GGUF writer without holding a whole tensor.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "io/gguf_writer.h"
#include "kernels/thread_pool.h"
#include "tensor/dtype.h"

namespace dsv2::tools {

// What `--type` names for convert, quantize and synth: one weight type for every matrix (the
// plain names: "q4_k" is llama-quantize --pure Q4_K_S), or one of llama.cpp's K-quant mixes
// ("q4_k_m", "q4_k_s", "q5_k_m", "q5_k_s"), which give the output projection and some layers'
// down projections more bits. The mixes are what the published Q4_K_M / Q5_K_M files are.
enum class QuantMix { Pure, Small, Medium };
struct FileType {
  DType base = DType::F16;
  QuantMix mix = QuantMix::Pure;
  FileType() = default;
  FileType(DType t, QuantMix m = QuantMix::Pure) : base(t), mix(m) {}  // NOLINT: a plain type is a file type
};
// Throws a one-line Error naming --type and the accepted names.
FileType parse_file_type(const std::string& name);
std::string file_type_name(FileType t);  // "q4_k_m", "q8_0", ...

// The type a tensor is stored in, in a file of type `type` for a model of `n_layers` blocks.
// As in llama.cpp: 1-D tensors (norms) and the MoE router (ffn_gate_inp) stay F32; the mixes
// choose per tensor as llama-quantize does (no importance matrix); then a row length that is not
// a multiple of the chosen block falls back as llama.cpp's quantizer does (Q4_K -> Q5_0, Q5_K ->
// Q5_1, Q6_K -> Q8_0, then F16 where even 32 does not divide the row). `note` says why, if a
// fallback changed the type.
DType gguf_tensor_type(const std::string& name, const std::vector<std::int64_t>& shape, FileType type,
                       int n_layers, std::string* note);

// N of a tensor named "blk.N.…", or -1.
int gguf_block_index(const std::string& name);

// llama.cpp's general.file_type (LLAMA_FTYPE_*) for a file of type `t`, and the name llama.cpp
// gives a file type number ("Q4_K - Medium"; "general.file_type N" for one dsv2 does not write).
std::uint32_t llama_file_type(FileType t);
std::string llama_file_type_name(std::uint32_t number);

// Accepts float32 rows of one tensor and appends them to the writer in dtype `type`, in
// pieces (a partial row is carried to the next call). The rows of a piece are quantized over
// `pool` when given (K-quants' scale search is what makes a conversion take minutes); each row
// is rounded alone, so the bytes do not depend on the thread count.
class GgufRowStream {
 public:
  GgufRowStream(GgufWriter& writer, DType type, std::int64_t cols, ThreadPool* pool = nullptr);
  void write(const float* values, std::size_t count);

 private:
  GgufWriter& writer_;
  DType type_;
  std::int64_t cols_;
  ThreadPool* pool_;
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
