#include "tools/quantized_synth.h"

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "kernels/matmul.h"
#include "tools/checkpoint_sink.h"
#include "tools/synth.h"

namespace dsv2::tools {

namespace {

bool keep_f32(const SinkTensor& t, DType type) {
  const bool router = t.name.ends_with(".mlp.gate.weight");
  return t.shape.size() != 2 || router || t.shape.back() % dtype_info(type).block_size != 0;
}

struct Buffers {
  std::vector<std::unique_ptr<std::uint8_t[]>> data;
};

// Receives float32 windows (not row-aligned) and quantizes complete rows into place.
class QuantizingSink : public CheckpointSink {
 public:
  explicit QuantizingSink(DType type) : type_(type), owner_(std::make_shared<Buffers>()) {}

  void begin(const std::vector<SinkTensor>& tensors) override {
    for (const SinkTensor& t : tensors) {
      Tensor v{keep_f32(t, type_) ? DType::F32 : type_, t.shape, nullptr};
      owner_->data.push_back(std::make_unique<std::uint8_t[]>(v.nbytes()));
      v.data = owner_->data.back().get();
      views_.push_back(v);
      names_.push_back(t.name);
    }
  }

  void write(std::size_t index, std::span<const std::uint8_t> bytes) override {
    if (index != current_) {
      current_ = index;
      next_row_ = 0;
      carry_.clear();
    }
    const Tensor& v = views_[index];
    const auto cols = static_cast<std::size_t>(v.cols());
    const auto* f = reinterpret_cast<const float*>(bytes.data());
    carry_.insert(carry_.end(), f, f + bytes.size() / sizeof(float));
    const std::size_t rows = carry_.size() / cols;
    if (rows == 0) return;
    auto* dst = const_cast<std::uint8_t*>(v.row(next_row_));
    quantize_rows(v.dtype, carry_.data(), static_cast<std::int64_t>(rows), v.cols(), dst);
    next_row_ += static_cast<std::int64_t>(rows);
    carry_.erase(carry_.begin(), carry_.begin() + static_cast<std::ptrdiff_t>(rows * cols));
  }

  void finish() override {}

  std::map<std::string, Tensor> tensors() const {
    std::map<std::string, Tensor> m;
    for (std::size_t i = 0; i < views_.size(); ++i) m.emplace(names_[i], views_[i]);
    return m;
  }
  std::shared_ptr<const void> owner() const { return owner_; }

 private:
  DType type_;
  std::shared_ptr<Buffers> owner_;
  std::vector<Tensor> views_;
  std::vector<std::string> names_;
  std::size_t current_ = static_cast<std::size_t>(-1);
  std::int64_t next_row_ = 0;
  std::vector<float> carry_;
};

}  // namespace

std::unique_ptr<Checkpoint> synth_quantized(const Config& config, DType weight_type,
                                            std::uint64_t seed, int threads) {
  QuantizingSink sink(weight_type);
  GenerateOptions opt;
  opt.dtype = DType::F32;
  opt.seed = seed;
  opt.threads = threads;
  write_random_checkpoint(config, opt, sink);
  return Checkpoint::from_memory(config, sink.tensors(), sink.owner(),
                                 std::string("synth:") + std::string(dtype_name(weight_type)));
}

}  // namespace dsv2::tools
