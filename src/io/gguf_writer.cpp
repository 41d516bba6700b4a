#include "io/gguf_writer.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "util/error.h"

namespace dsv2 {

GgufWriteValue GgufWriteValue::uval(GgufType t, std::uint64_t v) {
  GgufWriteValue w;
  w.type = t;
  w.u = v;
  return w;
}
GgufWriteValue GgufWriteValue::ival(GgufType t, std::int64_t v) {
  GgufWriteValue w;
  w.type = t;
  w.i = v;
  return w;
}
GgufWriteValue GgufWriteValue::fval(GgufType t, double v) {
  GgufWriteValue w;
  w.type = t;
  w.f = v;
  return w;
}
GgufWriteValue GgufWriteValue::string(std::string v) {
  GgufWriteValue w;
  w.type = GgufType::STRING;
  w.str = std::move(v);
  return w;
}
GgufWriteValue GgufWriteValue::array(GgufType elem_type, std::vector<GgufWriteValue> items) {
  GgufWriteValue w;
  w.type = GgufType::ARRAY;
  w.elem_type = elem_type;
  w.items = std::move(items);
  return w;
}
GgufWriteValue GgufWriteValue::string_array(const std::vector<std::string>& v) {
  std::vector<GgufWriteValue> items;
  items.reserve(v.size());
  for (const auto& s : v) items.push_back(string(s));
  return array(GgufType::STRING, std::move(items));
}
GgufWriteValue GgufWriteValue::i32_array(const std::vector<std::int32_t>& v) {
  std::vector<GgufWriteValue> items;
  items.reserve(v.size());
  for (auto x : v) items.push_back(i32(x));
  return array(GgufType::I32, std::move(items));
}

GgufWriter::GgufWriter(std::string path, std::uint32_t alignment)
    : path_(std::move(path)), part_path_(path_ + ".part"), alignment_(alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) fail("alignment must be a power of two");
  if (alignment != 32) set("general.alignment", GgufWriteValue::u32(alignment));
}

GgufWriter::~GgufWriter() {
  if (!out_) return;  // never opened, or finished
  std::fclose(out_);
  std::remove(part_path_.c_str());
}

void GgufWriter::fail(const std::string& what) const { throw Error(path_ + ": GGUF writer: " + what); }

void GgufWriter::set(const std::string& key, GgufWriteValue value) {
  if (header_written_) fail("metadata '" + key + "' set after the header was written");
  for (auto& [k, v] : kv_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  kv_.emplace_back(key, std::move(value));
}

void GgufWriter::add_tensor(const std::string& name, std::uint32_t ggml_type, const std::vector<std::int64_t>& shape) {
  if (header_written_) fail("tensor '" + name + "' added after the header was written");
  const GgmlTypeInfo* info = ggml_type_info(ggml_type);
  if (!info) fail("tensor '" + name + "': unknown ggml type " + std::to_string(ggml_type));
  PendingTensor t{name, {}, ggml_type, 0, 0};
  std::uint64_t count = 1;
  for (auto it = shape.rbegin(); it != shape.rend(); ++it) {
    if (*it < 0) fail("tensor '" + name + "': negative dimension");
    t.dims.push_back(static_cast<std::uint64_t>(*it));
    count *= static_cast<std::uint64_t>(*it);
  }
  if (!t.dims.empty() && t.dims[0] % static_cast<std::uint64_t>(info->block_size) != 0) {
    fail("tensor '" + name + "': row length is not a multiple of the block size");
  }
  t.nbytes = count / static_cast<std::uint64_t>(info->block_size) * info->block_bytes;
  t.offset = data_bytes_;
  data_bytes_ += (t.nbytes + alignment_ - 1) / alignment_ * alignment_;
  tensors_.push_back(std::move(t));
}

void GgufWriter::add_tensor(const std::string& name, DType dtype, const std::vector<std::int64_t>& shape) {
  add_tensor(name, ggml_type_from_dtype(dtype), shape);
}

void GgufWriter::put(const void* p, std::size_t n) {
  if (n && std::fwrite(p, 1, n, out_) != n) fail(std::string("write failed: ") + std::strerror(errno));
  written_ += n;
}

void GgufWriter::put_string(const std::string& s) {
  std::uint64_t n = s.size();
  put(&n, 8);
  put(s.data(), s.size());
}

void GgufWriter::put_value(const GgufWriteValue& v) {
  switch (v.type) {
    case GgufType::U8: case GgufType::BOOL: { auto x = static_cast<std::uint8_t>(v.u); put(&x, 1); break; }
    case GgufType::I8: { auto x = static_cast<std::int8_t>(v.i); put(&x, 1); break; }
    case GgufType::U16: { auto x = static_cast<std::uint16_t>(v.u); put(&x, 2); break; }
    case GgufType::I16: { auto x = static_cast<std::int16_t>(v.i); put(&x, 2); break; }
    case GgufType::U32: { auto x = static_cast<std::uint32_t>(v.u); put(&x, 4); break; }
    case GgufType::I32: { auto x = static_cast<std::int32_t>(v.i); put(&x, 4); break; }
    case GgufType::U64: put(&v.u, 8); break;
    case GgufType::I64: put(&v.i, 8); break;
    case GgufType::F32: { auto x = static_cast<float>(v.f); put(&x, 4); break; }
    case GgufType::F64: put(&v.f, 8); break;
    case GgufType::STRING: put_string(v.str); break;
    case GgufType::ARRAY: {
      auto et = static_cast<std::uint32_t>(v.elem_type);
      std::uint64_t n = v.items.size();
      put(&et, 4);
      put(&n, 8);
      for (const auto& item : v.items) {
        if (item.type != v.elem_type) fail("array item of type " + std::string(gguf_type_name(item.type)) +
                                           " in an array of " + std::string(gguf_type_name(v.elem_type)));
        put_value(item);
      }
      break;
    }
  }
}

void GgufWriter::pad_to_alignment() {
  static const char zeros[256] = {};
  std::uint64_t pad = (alignment_ - written_ % alignment_) % alignment_;
  while (pad > 0) {
    std::size_t n = pad < sizeof(zeros) ? static_cast<std::size_t>(pad) : sizeof(zeros);
    put(zeros, n);
    pad -= n;
  }
}

void GgufWriter::write_header() {
  if (header_written_) fail("header written twice");
  // What opening PATH itself would have refused, refused now rather than at the final rename.
  std::error_code ec;
  if (std::filesystem::is_directory(path_, ec)) fail("is a directory");
  if (std::filesystem::exists(path_, ec) && ::access(path_.c_str(), W_OK) != 0)
    fail(std::string("cannot write: ") + std::strerror(errno));
  out_ = std::fopen(part_path_.c_str(), "wb");
  if (!out_) fail("cannot create " + part_path_ + ": " + std::strerror(errno));
  header_written_ = true;
  const std::uint32_t magic = 0x46554747, version = 3;
  const std::uint64_t n_tensors = tensors_.size(), n_kv = kv_.size();
  put(&magic, 4);
  put(&version, 4);
  put(&n_tensors, 8);
  put(&n_kv, 8);
  for (const auto& [key, value] : kv_) {
    put_string(key);
    auto t = static_cast<std::uint32_t>(value.type);
    put(&t, 4);
    put_value(value);
  }
  for (const auto& t : tensors_) {
    put_string(t.name);
    auto n_dims = static_cast<std::uint32_t>(t.dims.size());
    put(&n_dims, 4);
    for (std::uint64_t d : t.dims) put(&d, 8);
    put(&t.ggml_type, 4);
    put(&t.offset, 8);
  }
  pad_to_alignment();
  data_start_ = written_;
}

void GgufWriter::write_tensor_data(const void* data, std::size_t nbytes) {
  if (header_written_ && next_tensor_ < tensors_.size() && tensor_done_ == 0 &&
      nbytes != tensors_[next_tensor_].nbytes) {
    const PendingTensor& t = tensors_[next_tensor_];
    fail("tensor '" + t.name + "': got " + std::to_string(nbytes) + " bytes, expected " + std::to_string(t.nbytes));
  }
  write_tensor_chunk(data, nbytes);
}

void GgufWriter::write_tensor_chunk(const void* data, std::size_t nbytes) {
  if (!header_written_) fail("tensor data written before the header");
  if (next_tensor_ >= tensors_.size()) fail("more tensor data than declared tensors");
  const PendingTensor& t = tensors_[next_tensor_];
  if (tensor_done_ + nbytes > t.nbytes) {
    fail("tensor '" + t.name + "': got " + std::to_string(tensor_done_ + nbytes) + " bytes, expected " +
         std::to_string(t.nbytes));
  }
  put(data, nbytes);
  tensor_done_ += nbytes;
  if (tensor_done_ < t.nbytes) return;
  pad_to_alignment();
  ++next_tensor_;
  tensor_done_ = 0;
}

void GgufWriter::finish() {
  if (!header_written_) write_header();
  if (next_tensor_ != tensors_.size()) {
    fail("finished after " + std::to_string(next_tensor_) + " of " + std::to_string(tensors_.size()) + " tensors");
  }
  const bool closed = std::fclose(out_) == 0;
  const int close_errno = errno;
  out_ = nullptr;
  if (!closed || std::rename(part_path_.c_str(), path_.c_str()) != 0) {
    const std::string why = closed ? "cannot rename " + part_path_ + " to it: " + std::strerror(errno)
                                   : "close failed: " + std::string(std::strerror(close_errno));
    std::remove(part_path_.c_str());
    fail(why);
  }
}

}  // namespace dsv2
