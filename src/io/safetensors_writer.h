// Streaming .safetensors writers. All tensors are declared up front (the header holds every
// offset), then their bytes are appended in declaration order, in as many chunks as the caller
// likes, so a checkpoint far larger than RAM can be written from a small buffer.
//
// File layout: u64 little-endian header length N, N bytes of JSON (padded with spaces so the data
// starts 8-byte aligned), then the tensors' bytes back to back.
#pragma once
#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tensor/dtype.h"

namespace dsv2 {

struct SafetensorsEntry {
  std::string name;
  DType dtype;  // F32, F16 or BF16
  std::vector<std::int64_t> shape;
};

// Bytes of the tensor's data; throws Error for a dtype safetensors cannot hold or a negative dim.
std::uint64_t safetensors_nbytes(const SafetensorsEntry& e);

// One .safetensors file. The header is written by the constructor; append() takes the tensors'
// bytes in order; finish() checks that everything arrived and closes. Misuse and I/O failures
// throw Error naming the file. A writer destroyed before finish() leaves a truncated file.
class SafetensorsWriter {
 public:
  SafetensorsWriter(std::string path, std::vector<SafetensorsEntry> tensors,
                    bool pt_metadata = true);
  ~SafetensorsWriter();
  SafetensorsWriter(const SafetensorsWriter&) = delete;
  SafetensorsWriter& operator=(const SafetensorsWriter&) = delete;

  // The next bytes of tensors[index]: index is the current tensor, or the next one once the
  // current is complete. A chunk never crosses into the following tensor.
  void append(std::size_t index, std::span<const std::uint8_t> bytes);
  void finish();

  const std::string& path() const { return path_; }
  std::uint64_t data_bytes() const { return data_bytes_; }  // sum of all tensors' sizes

 private:
  [[noreturn]] void fail(const std::string& what) const;
  void write_raw(const void* data, std::size_t n);
  void write_header(bool pt_metadata);

  std::string path_;
  std::vector<SafetensorsEntry> tensors_;
  std::vector<std::uint64_t> sizes_;
  std::uint64_t data_bytes_ = 0;
  std::FILE* file_ = nullptr;
  std::size_t current_ = 0;    // tensor being written
  std::uint64_t written_ = 0;  // bytes of tensors_[current_] written so far
};

// A Hugging Face checkpoint directory's weights: tensors are packed in declaration order into
// shards of at most max_shard_bytes (a larger tensor gets a shard of its own), named
// model-0000i-of-0000N.safetensors with a model.safetensors.index.json (metadata.total_size,
// weight_map). A checkpoint that fits one shard is a plain model.safetensors, as HF writes it.
class ShardedSafetensorsWriter {
 public:
  ShardedSafetensorsWriter(std::string dir, std::vector<SafetensorsEntry> tensors,
                           std::uint64_t max_shard_bytes);
  ~ShardedSafetensorsWriter();

  void append(std::size_t index, std::span<const std::uint8_t> bytes);
  void finish();  // finishes the last shard, then writes the index

  const std::vector<std::string>& files() const { return files_; }  // shard file names
  std::uint64_t total_bytes() const { return total_bytes_; }

 private:
  void open_shard(std::size_t shard);
  void write_index() const;

  std::string dir_;
  std::vector<SafetensorsEntry> tensors_;
  std::vector<std::size_t> shard_of_;  // tensor index -> shard
  std::vector<std::size_t> first_of_;  // shard -> its first tensor index
  std::vector<std::string> files_;
  std::uint64_t total_bytes_ = 0;
  std::size_t open_ = 0;  // shard the writer below belongs to
  std::unique_ptr<SafetensorsWriter> writer_;
};

}  // namespace dsv2
