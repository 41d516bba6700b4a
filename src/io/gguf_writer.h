// A streaming GGUF v3 writer: declare metadata and tensor infos, write the header, then append
// each tensor's bytes in declaration order (each padded to the alignment). Tensor data never has
// to be in memory all at once, so a converter can produce one tensor at a time.
// The bytes go to PATH.part, renamed to PATH by finish(): until then a file already at PATH is
// untouched — which is what lets `dsv2 quantize X.gguf X.gguf` read X while writing its
// replacement — and a writer destroyed unfinished (an error mid-way) removes its .part file,
// so no truncated model is ever left under the name asked for.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "io/gguf.h"

namespace dsv2 {

// An owned metadata value to write (GgufValue views a mapped file; this owns its strings).
struct GgufWriteValue {
  GgufType type = GgufType::U8;
  GgufType elem_type = GgufType::U8;
  std::uint64_t u = 0;
  std::int64_t i = 0;
  double f = 0;
  std::string str;
  std::vector<GgufWriteValue> items;

  static GgufWriteValue u8(std::uint8_t v) { return uval(GgufType::U8, v); }
  static GgufWriteValue u16(std::uint16_t v) { return uval(GgufType::U16, v); }
  static GgufWriteValue u32(std::uint32_t v) { return uval(GgufType::U32, v); }
  static GgufWriteValue u64(std::uint64_t v) { return uval(GgufType::U64, v); }
  static GgufWriteValue i8(std::int8_t v) { return ival(GgufType::I8, v); }
  static GgufWriteValue i16(std::int16_t v) { return ival(GgufType::I16, v); }
  static GgufWriteValue i32(std::int32_t v) { return ival(GgufType::I32, v); }
  static GgufWriteValue i64(std::int64_t v) { return ival(GgufType::I64, v); }
  static GgufWriteValue f32(float v) { return fval(GgufType::F32, v); }
  static GgufWriteValue f64(double v) { return fval(GgufType::F64, v); }
  static GgufWriteValue boolean(bool v) { return uval(GgufType::BOOL, v ? 1 : 0); }
  static GgufWriteValue string(std::string v);
  // Every item must have type elem_type (checked when written).
  static GgufWriteValue array(GgufType elem_type, std::vector<GgufWriteValue> items);
  static GgufWriteValue string_array(const std::vector<std::string>& v);
  static GgufWriteValue i32_array(const std::vector<std::int32_t>& v);

 private:
  static GgufWriteValue uval(GgufType t, std::uint64_t v);
  static GgufWriteValue ival(GgufType t, std::int64_t v);
  static GgufWriteValue fval(GgufType t, double v);
};

class GgufWriter {
 public:
  // alignment must be a power of two; other than 32 it is recorded as general.alignment.
  explicit GgufWriter(std::string path, std::uint32_t alignment = 32);
  ~GgufWriter();
  GgufWriter(const GgufWriter&) = delete;
  GgufWriter& operator=(const GgufWriter&) = delete;

  void set(const std::string& key, GgufWriteValue value);  // a repeated key replaces the value
  // shape is row-major (outermost first); it is stored reversed, as GGUF wants.
  void add_tensor(const std::string& name, std::uint32_t ggml_type, const std::vector<std::int64_t>& shape);
  void add_tensor(const std::string& name, DType dtype, const std::vector<std::int64_t>& shape);

  void write_header();                                     // after all set/add_tensor calls; creates PATH.part
  void write_tensor_data(const void* data, std::size_t nbytes);  // next tensor, exact size
  // The next bytes of the current tensor, for producers that stream a tensor in pieces; the
  // tensor is complete (and padded) once its declared size has arrived.
  void write_tensor_chunk(const void* data, std::size_t nbytes);
  void finish();                                           // all tensors written; closes, renames to PATH

 private:
  struct PendingTensor {
    std::string name;
    std::vector<std::uint64_t> dims;
    std::uint32_t ggml_type;
    std::uint64_t offset;
    std::uint64_t nbytes;
  };
  [[noreturn]] void fail(const std::string& what) const;
  void put(const void* p, std::size_t n);
  void put_string(const std::string& s);
  void put_value(const GgufWriteValue& v);
  void pad_to_alignment();

  std::string path_, part_path_;
  std::uint32_t alignment_;
  std::FILE* out_ = nullptr;
  std::uint64_t written_ = 0;
  std::vector<std::pair<std::string, GgufWriteValue>> kv_;
  std::vector<PendingTensor> tensors_;
  std::uint64_t data_bytes_ = 0;
  std::size_t next_tensor_ = 0;
  std::uint64_t tensor_done_ = 0;  // bytes of tensors_[next_tensor_] written so far
  std::uint64_t data_start_ = 0;
  bool header_written_ = false;
};

}  // namespace dsv2
