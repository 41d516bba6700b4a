#include "io/safetensors_writer.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "util/error.h"

namespace dsv2 {

namespace {

const char* safetensors_dtype(DType t) {
  switch (t) {
    case DType::F32:
      return "F32";
    case DType::F16:
      return "F16";
    case DType::BF16:
      return "BF16";
    default:
      return nullptr;
  }
}

std::string shard_name(std::size_t i, std::size_t n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "model-%05zu-of-%05zu.safetensors", i + 1, n);
  return buf;
}

}  // namespace

std::uint64_t safetensors_nbytes(const SafetensorsEntry& e) {
  check(safetensors_dtype(e.dtype) != nullptr,
        "tensor '" + e.name + "': dtype " + std::string(dtype_name(e.dtype)) +
            " cannot be stored in safetensors (only f32, f16, bf16)");
  std::uint64_t n = dtype_info(e.dtype).block_bytes;
  for (std::int64_t d : e.shape) {
    check(d >= 0, "tensor '" + e.name + "': negative dimension " + std::to_string(d));
    n *= static_cast<std::uint64_t>(d);
  }
  return n;
}

// ---- SafetensorsWriter ------------------------------------------------------------------------

SafetensorsWriter::SafetensorsWriter(std::string path, std::vector<SafetensorsEntry> tensors,
                                     bool pt_metadata)
    : path_(std::move(path)), tensors_(std::move(tensors)) {
  std::set<std::string> names;
  for (const SafetensorsEntry& e : tensors_) {
    if (!names.insert(e.name).second) fail("tensor '" + e.name + "' declared twice");
    check(e.name != "__metadata__", path_ + ": '__metadata__' is reserved, not a tensor name");
    sizes_.push_back(safetensors_nbytes(e));
    data_bytes_ += sizes_.back();
  }
  file_ = std::fopen(path_.c_str(), "wb");
  if (!file_) fail(std::string("cannot create: ") + std::strerror(errno));
  // Large sequential writes: a 4 MiB stdio buffer halves the syscalls for small tensors and
  // does not matter for big chunks, which fwrite passes straight through.
  std::setvbuf(file_, nullptr, _IOFBF, 4 << 20);
  write_header(pt_metadata);
}

SafetensorsWriter::~SafetensorsWriter() {
  if (file_) std::fclose(file_);
}

void SafetensorsWriter::fail(const std::string& what) const {
  throw Error(path_ + ": " + what);
}

void SafetensorsWriter::write_raw(const void* data, std::size_t n) {
  if (n > 0 && std::fwrite(data, 1, n, file_) != n)
    fail(std::string("write failed: ") + std::strerror(errno));
}

void SafetensorsWriter::write_header(bool pt_metadata) {
  // ordered_json keeps declaration order, so the header reads like the data that follows it.
  nlohmann::ordered_json h = nlohmann::ordered_json::object();
  if (pt_metadata) h["__metadata__"] = {{"format", "pt"}};
  std::uint64_t offset = 0;
  for (std::size_t i = 0; i < tensors_.size(); ++i) {
    h[tensors_[i].name] = {{"dtype", safetensors_dtype(tensors_[i].dtype)},
                           {"shape", tensors_[i].shape},
                           {"data_offsets", {offset, offset + sizes_[i]}}};
    offset += sizes_[i];
  }
  std::string text = h.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // data then starts 8-byte aligned
  std::uint8_t len[8];
  for (int b = 0; b < 8; ++b) len[b] = static_cast<std::uint8_t>(text.size() >> (8 * b));
  write_raw(len, 8);
  write_raw(text.data(), text.size());
}

void SafetensorsWriter::append(std::size_t index, std::span<const std::uint8_t> bytes) {
  if (!file_) fail("append after finish");
  if (index >= tensors_.size())
    fail("append to tensor #" + std::to_string(index) + " of " + std::to_string(tensors_.size()));
  // Moving on is allowed only past complete tensors (zero-sized ones complete at once).
  while (current_ < index && written_ == sizes_[current_]) {
    ++current_;
    written_ = 0;
  }
  if (index != current_)
    fail("tensor '" + tensors_[index].name + "' written out of order: '" + tensors_[current_].name +
         "' has " + std::to_string(written_) + " of " + std::to_string(sizes_[current_]) +
         " bytes");
  if (bytes.size() > sizes_[index] - written_)
    fail("tensor '" + tensors_[index].name + "': " + std::to_string(written_ + bytes.size()) +
         " bytes written, but it holds " + std::to_string(sizes_[index]));
  write_raw(bytes.data(), bytes.size());
  written_ += bytes.size();
}

void SafetensorsWriter::finish() {
  if (!file_) fail("finish called twice");
  while (current_ < tensors_.size() && written_ == sizes_[current_]) {
    ++current_;
    written_ = 0;
  }
  if (current_ != tensors_.size())
    fail("finished with tensor '" + tensors_[current_].name + "' incomplete (" +
         std::to_string(written_) + " of " + std::to_string(sizes_[current_]) + " bytes)");
  std::FILE* f = file_;
  file_ = nullptr;
  bool ok = std::fflush(f) == 0;  // a full disk often shows only here
  ok = std::fclose(f) == 0 && ok;
  if (!ok) fail(std::string("write failed: ") + std::strerror(errno));
}

// ---- ShardedSafetensorsWriter -----------------------------------------------------------------

ShardedSafetensorsWriter::ShardedSafetensorsWriter(std::string dir,
                                                   std::vector<SafetensorsEntry> tensors,
                                                   std::uint64_t max_shard_bytes)
    : dir_(std::move(dir)), tensors_(std::move(tensors)) {
  check(max_shard_bytes > 0, dir_ + ": shard size must be positive");
  std::uint64_t in_shard = 0;
  for (std::size_t i = 0; i < tensors_.size(); ++i) {
    std::uint64_t n = safetensors_nbytes(tensors_[i]);
    if (first_of_.empty() || (in_shard > 0 && in_shard + n > max_shard_bytes)) {
      first_of_.push_back(i);
      in_shard = 0;
    }
    shard_of_.push_back(first_of_.size() - 1);
    in_shard += n;
    total_bytes_ += n;
  }
  if (first_of_.empty()) first_of_.push_back(0);  // no tensors: one empty file
  for (std::size_t s = 0; s < first_of_.size(); ++s)
    files_.push_back(first_of_.size() == 1 ? "model.safetensors" : shard_name(s, first_of_.size()));
  open_shard(0);
}

ShardedSafetensorsWriter::~ShardedSafetensorsWriter() = default;

void ShardedSafetensorsWriter::open_shard(std::size_t shard) {
  std::size_t end = shard + 1 < first_of_.size() ? first_of_[shard + 1] : tensors_.size();
  std::vector<SafetensorsEntry> part(
      tensors_.begin() + static_cast<std::ptrdiff_t>(first_of_[shard]),
      tensors_.begin() + static_cast<std::ptrdiff_t>(end));
  writer_.reset();  // close the previous file before creating the next
  writer_ = std::make_unique<SafetensorsWriter>(dir_ + "/" + files_[shard], std::move(part));
  open_ = shard;
}

void ShardedSafetensorsWriter::append(std::size_t index, std::span<const std::uint8_t> bytes) {
  check(writer_ != nullptr, dir_ + ": append after finish");
  check(index < tensors_.size(), dir_ + ": append to tensor #" + std::to_string(index) + " of " +
                                     std::to_string(tensors_.size()));
  std::size_t shard = shard_of_[index];
  check(shard >= open_, dir_ + ": tensor '" + tensors_[index].name + "' written out of order");
  while (open_ < shard) {  // finish() reports a shard left incomplete
    writer_->finish();
    open_shard(open_ + 1);
  }
  writer_->append(index - first_of_[shard], bytes);
}

void ShardedSafetensorsWriter::finish() {
  check(writer_ != nullptr, dir_ + ": finish called twice");
  while (true) {
    writer_->finish();
    if (open_ + 1 == first_of_.size()) break;
    open_shard(open_ + 1);  // trailing shards of zero-sized tensors, or an error for missing data
  }
  writer_.reset();
  if (files_.size() > 1) write_index();
}

void ShardedSafetensorsWriter::write_index() const {
  nlohmann::ordered_json map = nlohmann::ordered_json::object();
  for (std::size_t i = 0; i < tensors_.size(); ++i) map[tensors_[i].name] = files_[shard_of_[i]];
  nlohmann::ordered_json index = {{"metadata", {{"total_size", total_bytes_}}},
                                  {"weight_map", map}};
  const std::string path = dir_ + "/model.safetensors.index.json";
  std::ofstream out(path, std::ios::binary);
  out << index.dump(2) << '\n';
  out.close();
  check(!out.fail(), path + ": write failed");
}

}  // namespace dsv2
