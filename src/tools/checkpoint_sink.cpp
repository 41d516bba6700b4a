#include "tools/checkpoint_sink.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "util/error.h"

namespace dsv2::tools {

namespace {

class HfSink final : public CheckpointSink {
 public:
  HfSink(std::string dir, Config config, std::uint64_t max_shard_bytes)
      : dir_(std::move(dir)), config_(std::move(config)), max_shard_bytes_(max_shard_bytes) {}

  void begin(const std::vector<SinkTensor>& tensors) override {
    writer_ = std::make_unique<ShardedSafetensorsWriter>(dir_, tensors, max_shard_bytes_);
  }

  void write(std::size_t index, std::span<const std::uint8_t> bytes) override {
    check(writer_ != nullptr, dir_ + ": write before begin");
    writer_->append(index, bytes);
  }

  void finish() override {
    check(writer_ != nullptr, dir_ + ": finish before begin");
    writer_->finish();
    const std::string path = dir_ + "/config.json";
    std::ofstream out(path, std::ios::binary);
    out << config_.to_json().dump(2) << '\n';
    out.close();
    check(!out.fail(), path + ": write failed");
  }

 private:
  std::string dir_;
  Config config_;
  std::uint64_t max_shard_bytes_;
  std::unique_ptr<ShardedSafetensorsWriter> writer_;
};

}  // namespace

std::unique_ptr<CheckpointSink> make_hf_sink(const std::string& dir, const Config& config,
                                             std::uint64_t max_shard_bytes) {
  return std::make_unique<HfSink>(dir, config, max_shard_bytes);
}

}  // namespace dsv2::tools
