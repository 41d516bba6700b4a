// A strict reader of GGUF v2/v3 files (ggml's single-file model format) over a memory map.
//
// Everything is validated against the file size when the file is opened: a malformed file
// throws dsv2::Error naming the file and the field, and nothing is ever read past the map.
// Metadata strings are views into the map; tensors are views too, never copied.
//
// Layout (little-endian): "GGUF", u32 version, u64 tensor_count, u64 kv_count, the key/values,
// the tensor infos, padding to general.alignment, then the data section that tensor offsets
// are relative to.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/mapped_file.h"
#include "tensor/tensor.h"

namespace dsv2 {

enum class GgufType : std::uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, U64 = 10, I64 = 11, F64 = 12,
};
std::string_view gguf_type_name(GgufType t);

// One metadata value. Scalars are widened (integers to 64 bits, floats to double) but keep
// their GGUF type; strings view the mapped file; arrays hold their elements.
class GgufValue {
 public:
  GgufType type = GgufType::U8;
  GgufType elem_type = GgufType::U8;  // arrays only
  std::uint64_t u = 0;                // U8..U64 and BOOL
  std::int64_t i = 0;                 // I8..I64
  double f = 0;                       // F32, F64
  std::string_view str;               // STRING
  std::vector<GgufValue> items;       // ARRAY

  bool is_integer() const;
  bool is_float() const { return type == GgufType::F32 || type == GgufType::F64; }
};

// ggml tensor types known to the reader (sizes are needed to validate every tensor, even one
// of a type the engine cannot compute with).
struct GgmlTypeInfo {
  std::uint32_t id;
  std::string_view name;
  std::int64_t block_size;
  std::size_t block_bytes;
};
const GgmlTypeInfo* ggml_type_info(std::uint32_t id);      // nullptr if unknown
std::optional<DType> dtype_from_ggml(std::uint32_t id);    // nullopt if no DType matches
std::uint32_t ggml_type_from_dtype(DType t);

struct GgufTensorInfo {
  std::string name;
  std::vector<std::uint64_t> dims;  // as stored: innermost (contiguous) dimension first
  std::uint32_t ggml_type = 0;
  std::uint64_t offset = 0;         // relative to the data section
  std::uint64_t nbytes = 0;
  // Row-major shape, outermost first (dims reversed), as dsv2::Tensor wants it.
  std::vector<std::int64_t> shape() const;
};

class GgufFile {
 public:
  // Maps (or loads, see FileMode) and validates; throws Error.
  explicit GgufFile(const std::string& path, FileMode mode = FileMode::Map);
  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;

  const std::string& path() const { return file_->path(); }
  MappedFile& file() { return *file_; }
  std::uint32_t version() const { return version_; }
  std::uint32_t alignment() const { return alignment_; }
  std::uint64_t data_offset() const { return data_offset_; }  // start of the data section

  // ---- metadata -----------------------------------------------------------------------
  const std::vector<std::string>& keys() const { return key_order_; }  // in file order
  const GgufValue* find(std::string_view key) const;                     // nullptr if absent
  bool has(std::string_view key) const { return find(key) != nullptr; }
  // Typed getters: throw Error naming the file and key if absent or of another type.
  // get_int/get_uint accept any integer type whose value fits; get_float accepts f32/f64.
  std::int64_t get_int(std::string_view key) const;
  std::uint64_t get_uint(std::string_view key) const;
  double get_float(std::string_view key) const;
  bool get_bool(std::string_view key) const;
  std::string_view get_string(std::string_view key) const;
  const GgufValue& get_array(std::string_view key, GgufType elem_type) const;
  std::vector<std::string_view> get_string_array(std::string_view key) const;
  std::vector<std::int64_t> get_int_array(std::string_view key) const;
  // The same with a default used when the key is absent (a present key of the wrong type
  // still throws).
  std::int64_t get_int(std::string_view key, std::int64_t fallback) const;
  std::uint64_t get_uint(std::string_view key, std::uint64_t fallback) const;
  double get_float(std::string_view key, double fallback) const;
  bool get_bool(std::string_view key, bool fallback) const;
  std::string_view get_string(std::string_view key, std::string_view fallback) const;

  // ---- tensors --------------------------------------------------------------------------
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }  // in file order
  const GgufTensorInfo* find_tensor(std::string_view name) const;
  // A view of the named tensor. Throws Error if absent or of a type DType cannot represent.
  Tensor tensor(std::string_view name) const;
  Tensor tensor(const GgufTensorInfo& info) const;
  const std::uint8_t* tensor_data(const GgufTensorInfo& info) const;

 private:
  friend class GgufParser;
  [[noreturn]] void fail_key(std::string_view key, std::string_view what) const;
  const GgufValue& require(std::string_view key) const;

  std::unique_ptr<MappedFile> file_;
  std::uint32_t version_ = 0;
  std::uint32_t alignment_ = 32;
  std::uint64_t data_offset_ = 0;
  std::vector<std::string> key_order_;
  std::map<std::string, GgufValue, std::less<>> kv_;
  std::vector<GgufTensorInfo> tensors_;
  std::map<std::string, std::size_t, std::less<>> tensor_index_;
};

}  // namespace dsv2
