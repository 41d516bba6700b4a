// make_gguf_sink: synth's weights straight into a (possibly quantized) GGUF file. The sink
// arranges the HF tensors in GGUF order (each expert stack's experts back to back), so every
// arriving float32 piece continues the GGUF tensor being written: nothing is buffered beyond
// a partial row.
#include <cstring>
#include <map>

#include "io/gguf_writer.h"
#include "model/gguf_layout.h"
#include "tools/checkpoint_sink.h"
#include "tools/gguf_output.h"
#include "tools/gguf_tokenizer_meta.h"
#include "util/error.h"

namespace dsv2::tools {

namespace {

class GgufSink : public CheckpointSink {
 public:
  GgufSink(const std::string& path, const Config& config, FileType type, const std::string& tokenizer_dir,
           int threads)
      : writer_(path), type_(type), pool_(threads), n_layers_(static_cast<int>(config.num_layers)),
        plan_(gguf_tensor_plan(config, GgufLayout::Legacy)) {
    writer_.set("general.name", GgufWriteValue::string("dsv2-synth"));
    writer_.set("general.file_type", GgufWriteValue::u32(llama_file_type(type)));
    if (dtype_is_quantized(type.base)) writer_.set("general.quantization_version", GgufWriteValue::u32(2));
    write_gguf_config(writer_, config, GgufLayout::Legacy);
    write_tokenizer_metadata(writer_, tokenizer_dir, config.vocab_size);
  }

  std::vector<SinkTensor> arrange(std::vector<SinkTensor> tensors) const override {
    std::map<std::string, SinkTensor> by_name;
    for (SinkTensor& t : tensors) by_name.emplace(t.name, std::move(t));
    std::vector<SinkTensor> out;
    for (const GgufTensorPlan& p : plan_)
      for (const GgufPart& part : p.parts) out.push_back(by_name.at(part.hf));
    check(out.size() == by_name.size(), "gguf sink: the model has tensors GGUF does not name");
    return out;
  }

  void begin(const std::vector<SinkTensor>& tensors) override {
    for (const GgufTensorPlan& p : plan_) {
      for (std::size_t i = 0; i < p.parts.size(); ++i) owner_.push_back(types_.size());
      types_.push_back(gguf_tensor_type(p.name, p.shape, type_, n_layers_, nullptr));
      writer_.add_tensor(p.name, types_.back(), p.shape);
    }
    for (const SinkTensor& t : tensors) check(t.dtype == DType::F32, "gguf sink: expects float32 tensors");
    writer_.write_header();
  }

  void write(std::size_t index, std::span<const std::uint8_t> bytes) override {
    const std::size_t t = owner_.at(index);
    if (!stream_ || t != current_) {
      current_ = t;
      stream_ = std::make_unique<GgufRowStream>(writer_, types_[t], plan_[t].shape.back(), &pool_);
    }
    values_.resize(bytes.size() / sizeof(float));
    std::memcpy(values_.data(), bytes.data(), values_.size() * sizeof(float));
    stream_->write(values_.data(), values_.size());
  }

  void finish() override { writer_.finish(); }

 private:
  GgufWriter writer_;
  FileType type_;
  ThreadPool pool_;  // quantizes each arriving piece's rows
  int n_layers_;
  std::vector<GgufTensorPlan> plan_;
  std::vector<DType> types_;          // per GGUF tensor
  std::vector<std::size_t> owner_;    // arranged HF tensor -> GGUF tensor
  std::size_t current_ = 0;
  std::unique_ptr<GgufRowStream> stream_;
  std::vector<float> values_;
};

}  // namespace

std::unique_ptr<CheckpointSink> make_gguf_sink(const std::string& path, const Config& config, FileType type,
                                               const std::string& tokenizer_dir, int threads) {
  return std::make_unique<GgufSink>(path, config, type, tokenizer_dir, threads);
}

}  // namespace dsv2::tools
