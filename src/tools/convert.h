// `dsv2 convert`: a Hugging Face checkpoint directory to a llama.cpp `deepseek2` GGUF file, and
// `dsv2 quantize`: a GGUF file to another weight type. Both stream tensor by tensor (memory
// use is about one tensor's rows in float32 at a time, however large the model).
#pragma once
#include <string>

#include "model/gguf_layout.h"
#include "tools/gguf_output.h"

namespace dsv2::tools {

struct ConvertOptions {
  std::string hf_dir, out;
  FileType type = DType::F16;           // matrices; norms and the router stay F32
  GgufLayout layout = GgufLayout::Mla;  // what current llama.cpp writes
  bool progress = true;
  int threads = 0;  // quantizing threads (0: all cores)
};
void convert_to_gguf(const ConvertOptions& options);

struct QuantizeOptions {
  std::string in, out;
  FileType type = DType::Q8_0;
  bool progress = true;
  int threads = 0;  // quantizing threads (0: all cores)
};
void quantize_gguf(const QuantizeOptions& options);

}  // namespace dsv2::tools
