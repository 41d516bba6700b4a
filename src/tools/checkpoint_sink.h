// Where generated or converted weights go. A sink learns every tensor first (file formats put
// an index before the data), then takes each tensor's bytes in that order, in chunks, so that
// producers can stream checkpoints larger than RAM. Hugging Face directories are one sink; a
// GGUF file will be another.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "io/safetensors_writer.h"
#include "model/config.h"
#include "tools/gguf_output.h"

namespace dsv2::tools {

using SinkTensor = SafetensorsEntry;  // name, dtype, shape

class CheckpointSink {
 public:
  virtual ~CheckpointSink() = default;
  // The order the sink wants the tensors in (a GGUF file stacks experts, so it wants each
  // stack's experts back to back); producers call begin() with the result. Default: as given.
  virtual std::vector<SinkTensor> arrange(std::vector<SinkTensor> tensors) const { return tensors; }
  virtual void begin(const std::vector<SinkTensor>& tensors) = 0;
  // The next bytes of tensors[index], in declaration order (see SafetensorsWriter::append).
  virtual void write(std::size_t index, std::span<const std::uint8_t> bytes) = 0;
  virtual void finish() = 0;
};

// A Hugging Face model directory: sharded safetensors (+ index), then config.json. config.json
// is written last, so an interrupted run leaves a directory no loader mistakes for a model.
std::unique_ptr<CheckpointSink> make_hf_sink(const std::string& dir, const Config& config,
                                             std::uint64_t max_shard_bytes);

// A llama.cpp deepseek2 GGUF file (legacy attn_kv_b layout) with matrices in `type` (a weight
// type or a K-quant mix, gguf_output.h), quantized
// as the float32 values arrive; tokenizer metadata from tokenizer_dir when it has one. Takes
// F32 tensors only. `threads` quantize (0: all cores).
std::unique_ptr<CheckpointSink> make_gguf_sink(const std::string& path, const Config& config, FileType type,
                                               const std::string& tokenizer_dir, int threads = 0);

}  // namespace dsv2::tools
