// GgufFile accessors: typed metadata getters and tensor views.
#include "io/gguf.h"

#include <limits>

#include "util/error.h"

namespace dsv2 {

void GgufFile::fail_key(std::string_view key, std::string_view what) const {
  throw Error(path() + ": metadata '" + std::string(key) + "': " + std::string(what));
}

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = kv_.find(key);
  return it == kv_.end() ? nullptr : &it->second;
}

const GgufValue& GgufFile::require(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) fail_key(key, "missing");
  return *v;
}

namespace {
std::string mismatch(const GgufValue& v, std::string_view wanted) {
  return "is " + std::string(gguf_type_name(v.type)) + ", expected " + std::string(wanted);
}
bool is_unsigned(GgufType t) {
  return t == GgufType::U8 || t == GgufType::U16 || t == GgufType::U32 || t == GgufType::U64;
}
}  // namespace

std::int64_t GgufFile::get_int(std::string_view key) const {
  const GgufValue& v = require(key);
  if (!v.is_integer()) fail_key(key, mismatch(v, "an integer"));
  if (!is_unsigned(v.type)) return v.i;
  if (v.u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    fail_key(key, "value " + std::to_string(v.u) + " does not fit in int64");
  }
  return static_cast<std::int64_t>(v.u);
}

std::uint64_t GgufFile::get_uint(std::string_view key) const {
  const GgufValue& v = require(key);
  if (!v.is_integer()) fail_key(key, mismatch(v, "an unsigned integer"));
  if (is_unsigned(v.type)) return v.u;
  if (v.i < 0) fail_key(key, "value " + std::to_string(v.i) + " is negative");
  return static_cast<std::uint64_t>(v.i);
}

double GgufFile::get_float(std::string_view key) const {
  const GgufValue& v = require(key);
  if (!v.is_float()) fail_key(key, mismatch(v, "float32 or float64"));
  return v.f;
}

bool GgufFile::get_bool(std::string_view key) const {
  const GgufValue& v = require(key);
  if (v.type != GgufType::BOOL) fail_key(key, mismatch(v, "bool"));
  return v.u != 0;
}

std::string_view GgufFile::get_string(std::string_view key) const {
  const GgufValue& v = require(key);
  if (v.type != GgufType::STRING) fail_key(key, mismatch(v, "string"));
  return v.str;
}

const GgufValue& GgufFile::get_array(std::string_view key, GgufType elem_type) const {
  const GgufValue& v = require(key);
  if (v.type != GgufType::ARRAY) fail_key(key, mismatch(v, "array"));
  if (v.elem_type != elem_type) {
    fail_key(key, "is an array of " + std::string(gguf_type_name(v.elem_type)) + ", expected an array of " +
                      std::string(gguf_type_name(elem_type)));
  }
  return v;
}

std::vector<std::string_view> GgufFile::get_string_array(std::string_view key) const {
  const GgufValue& v = get_array(key, GgufType::STRING);
  std::vector<std::string_view> out;
  out.reserve(v.items.size());
  for (const auto& item : v.items) out.push_back(item.str);
  return out;
}

std::vector<std::int64_t> GgufFile::get_int_array(std::string_view key) const {
  const GgufValue& v = require(key);
  if (v.type != GgufType::ARRAY) fail_key(key, mismatch(v, "array"));
  std::vector<std::int64_t> out;
  out.reserve(v.items.size());
  for (const auto& item : v.items) {
    if (!item.is_integer()) fail_key(key, "is an array of " + std::string(gguf_type_name(item.type)) + ", expected integers");
    if (is_unsigned(item.type) && item.u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      fail_key(key, "element does not fit in int64");
    }
    out.push_back(is_unsigned(item.type) ? static_cast<std::int64_t>(item.u) : item.i);
  }
  return out;
}

std::int64_t GgufFile::get_int(std::string_view key, std::int64_t fallback) const {
  return has(key) ? get_int(key) : fallback;
}
std::uint64_t GgufFile::get_uint(std::string_view key, std::uint64_t fallback) const {
  return has(key) ? get_uint(key) : fallback;
}
double GgufFile::get_float(std::string_view key, double fallback) const {
  return has(key) ? get_float(key) : fallback;
}
bool GgufFile::get_bool(std::string_view key, bool fallback) const {
  return has(key) ? get_bool(key) : fallback;
}
std::string_view GgufFile::get_string(std::string_view key, std::string_view fallback) const {
  return has(key) ? get_string(key) : fallback;
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const std::uint8_t* GgufFile::tensor_data(const GgufTensorInfo& info) const {
  return file_->data() + data_offset_ + info.offset;  // validated in range when opened
}

Tensor GgufFile::tensor(std::string_view name) const {
  const GgufTensorInfo* info = find_tensor(name);
  if (!info) throw Error(path() + ": no tensor '" + std::string(name) + "'");
  return tensor(*info);
}

Tensor GgufFile::tensor(const GgufTensorInfo& info) const {
  std::optional<DType> dt = dtype_from_ggml(info.ggml_type);
  if (!dt) {
    const GgmlTypeInfo* ti = ggml_type_info(info.ggml_type);
    throw Error(path() + ": tensor '" + info.name + "' has ggml type " +
                std::string(ti ? ti->name : "?") + " (" + std::to_string(info.ggml_type) +
                "), which dsv2 does not support");
  }
  return Tensor{*dt, info.shape(), tensor_data(info)};
}

}  // namespace dsv2
