// A model checkpoint as the compute sees it: the Config and every weight tensor by its Hugging
// Face name, as views into memory-mapped files. Loading checks every tensor's presence, shape and
// dtype against the Config before any compute runs.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "io/mapped_file.h"
#include "model/config.h"
#include "tensor/tensor.h"

namespace dsv2 {

class GgufFile;
class SafetensorsFile;

class Checkpoint {
 public:
  // A Hugging Face directory: config.json and model.safetensors, or sharded model-*.safetensors
  // with model.safetensors.index.json.
  // mode: FileMode::Load reads the weight files into huge-page memory (fastest decoding), Map
  // memory-maps them (instant start, pages shared with the page cache; tools and tests).
  static std::unique_ptr<Checkpoint> open_hf_dir(const std::string& dir, FileMode mode = FileMode::Map);
  // A llama.cpp `deepseek2` GGUF file (legacy or MLA layout). Its tensors are exposed under HF
  // names: stacked experts as per-expert row slices; the MLA layout's attn_k_b / attn_v_b as
  // "self_attn.k_b_proj.weight" [nh*r_kv, dn] and "self_attn.v_b_proj.weight" [nh*dv, r_kv]
  // in place of kv_b_proj. Implemented in gguf_checkpoint.cpp.
  static std::unique_ptr<Checkpoint> open_gguf(const std::string& path, FileMode mode = FileMode::Map);
  // A model as users have it: a Hugging Face directory or a GGUF file.
  static std::unique_ptr<Checkpoint> open(const std::string& path, FileMode mode = FileMode::Map);
  // An in-memory checkpoint (benchmarks, tests): the tensors view buffers that `owner` keeps
  // alive for the checkpoint's lifetime and that are the checkpoint's own (the model may
  // rewrite them in place, see weights_private). Validated like a loaded one.
  static std::unique_ptr<Checkpoint> from_memory(Config config, std::map<std::string, Tensor> tensors,
                                                 std::shared_ptr<const void> owner, std::string source);
  ~Checkpoint();

  const Config& config() const { return config_; }
  const std::string& source() const { return source_; }
  // The tensor by HF name; throws Error naming the checkpoint if absent.
  const Tensor& get(const std::string& name) const;
  bool has(const std::string& name) const { return tensors_.count(name) != 0; }
  std::size_t tensor_count() const { return tensors_.size(); }
  const std::map<std::string, Tensor>& tensors() const { return tensors_; }

  // Checks presence and shape of expected_tensors(config) and that dtypes are usable as weights.
  void validate() const;

  // True when every weight lives in memory private to this process (files opened with
  // FileMode::Load, from_memory buffers), so the model may rewrite matrices in place into the
  // kernels' interleaved layout; false when any file is memory-mapped. After that rewrite the
  // tensors here keep their file dtype: read weights through the model's ModelWeights.
  bool weights_private() const;
  // Lifts (true) or restores (false) the read-only protection of loaded files around such a
  // rewrite. Only when weights_private().
  void set_weights_writable(bool writable);

 private:
  Checkpoint() = default;
  void add_file(std::unique_ptr<SafetensorsFile> file);

  Config config_;
  std::string source_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::unique_ptr<GgufFile> gguf_;
  std::map<std::string, Tensor> tensors_;
  std::map<std::string, std::string> tensor_file_;          // name -> file path, for errors
  std::vector<std::vector<std::uint8_t>> realigned_;        // copies of misaligned tensors only
  std::shared_ptr<const void> owner_;                       // from_memory's buffers
};

}  // namespace dsv2
