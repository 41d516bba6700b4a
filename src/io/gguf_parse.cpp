// The GGUF parser: a bounds-checked cursor over the mapped bytes. Every count and length is
// checked against the bytes that remain before anything is allocated or read, so a hostile
// file can neither read past the map nor make us allocate more than the file could describe.
#include <algorithm>
#include <cstring>
#include <limits>

#include "io/gguf.h"
#include "util/error.h"

namespace dsv2 {

namespace {
constexpr std::uint32_t kMagic = 0x46554747;  // "GGUF" read as little-endian u32
constexpr std::uint32_t kMaxDims = 4;         // GGML_MAX_DIMS
constexpr int kMaxArrayDepth = 8;             // nested arrays deeper than this are refused

// The smallest encoding of one value of each type: bounds absurd element counts up front.
std::uint64_t min_value_bytes(GgufType t) {
  switch (t) {
    case GgufType::U8: case GgufType::I8: case GgufType::BOOL: return 1;
    case GgufType::U16: case GgufType::I16: return 2;
    case GgufType::U32: case GgufType::I32: case GgufType::F32: return 4;
    case GgufType::U64: case GgufType::I64: case GgufType::F64: case GgufType::STRING: return 8;
    case GgufType::ARRAY: return 12;
  }
  return 1;
}
}  // namespace

class GgufParser {
 public:
  explicit GgufParser(GgufFile& f) : f_(f), data_(f.file_->data()), size_(f.file_->size()) {}

  void parse() {
    parse_header();
    for (std::uint64_t k = 0; k < kv_count_; ++k) parse_kv(k);
    read_alignment();
    for (std::uint64_t t = 0; t < tensor_count_; ++t) parse_tensor_info(t);
    std::uint64_t a = f_.alignment_;
    f_.data_offset_ = (pos_ + a - 1) / a * a;
    // A file with no tensors may end right after its metadata, without the padding.
    if (tensor_count_ > 0) check(f_.data_offset_ <= size_, "data section starts past the end of the file");
    validate_tensor_extents();
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(f_.path() + ": invalid GGUF: " + what);
  }
  void check(bool cond, const std::string& what) const {
    if (!cond) fail(what);
  }
  std::uint64_t remaining() const { return size_ - pos_; }

  // Field names are (what, key) and only turned into text on failure: building a message
  // per value would dominate the parse of a 100k-entry vocabulary.
  struct Field {
    std::string_view what;
    std::string_view key = {};
    std::string str() const { return key.empty() ? std::string(what) : std::string(what) + " '" + std::string(key) + "'"; }
  };
  void need(std::uint64_t n, const Field& field) const {
    if (n > remaining()) fail(field.str() + ": truncated at byte " + std::to_string(pos_));
  }
  template <class T>
  T read(const Field& field) {
    need(sizeof(T), field);
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string_view read_string(const Field& field) {
    auto n = read<std::uint64_t>(field);
    if (n > remaining()) fail(field.str() + ": string length " + std::to_string(n) + " is past the end of the file");
    std::string_view s(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return s;
  }

  void parse_header() {
    auto magic = read<std::uint32_t>({"magic"});
    check(magic == kMagic, "bad magic (not a GGUF file)");
    f_.version_ = read<std::uint32_t>({"version"});
    if (f_.version_ == 0x02000000 || f_.version_ == 0x03000000) fail("big-endian GGUF is not supported");
    check(f_.version_ == 2 || f_.version_ == 3,
          "unsupported version " + std::to_string(f_.version_) + " (need 2 or 3)");
    tensor_count_ = read<std::uint64_t>({"tensor_count"});
    kv_count_ = read<std::uint64_t>({"kv_count"});
    // Each kv takes >= 13 bytes (key length, type, 1-byte value), each tensor info >= 24.
    check(kv_count_ <= remaining() / 13, "kv_count " + std::to_string(kv_count_) + " is too large for the file");
    check(tensor_count_ <= remaining() / 24,
          "tensor_count " + std::to_string(tensor_count_) + " is too large for the file");
  }

  void parse_kv(std::uint64_t index) {
    std::string number = "#";  // (not "#" + ...: GCC 12 warns falsely on that)
    number += std::to_string(index);
    std::string key(read_string({"key of kv", number}));
    check(!key.empty(), "kv #" + std::to_string(index) + " has an empty key");
    auto type = read_type({"type of", key});
    GgufValue v = parse_value(type, key, 0);
    check(!f_.kv_.count(key), "duplicate key '" + key + "'");
    f_.kv_.emplace(key, std::move(v));
    f_.key_order_.push_back(std::move(key));
  }

  GgufType read_type(const Field& field) {
    auto t = read<std::uint32_t>(field);
    if (t > static_cast<std::uint32_t>(GgufType::F64)) fail(field.str() + ": unknown value type " + std::to_string(t));
    return static_cast<GgufType>(t);
  }

  GgufValue parse_value(GgufType type, const std::string& key, int depth) {
    GgufValue v;
    v.type = type;
    const Field field{"value of", key};
    switch (type) {
      case GgufType::U8: v.u = read<std::uint8_t>(field); break;
      case GgufType::I8: v.i = read<std::int8_t>(field); break;
      case GgufType::U16: v.u = read<std::uint16_t>(field); break;
      case GgufType::I16: v.i = read<std::int16_t>(field); break;
      case GgufType::U32: v.u = read<std::uint32_t>(field); break;
      case GgufType::I32: v.i = read<std::int32_t>(field); break;
      case GgufType::U64: v.u = read<std::uint64_t>(field); break;
      case GgufType::I64: v.i = read<std::int64_t>(field); break;
      case GgufType::F32: v.f = read<float>(field); break;
      case GgufType::F64: v.f = read<double>(field); break;
      case GgufType::BOOL: {
        auto b = read<std::uint8_t>(field);
        if (b > 1) fail(field.str() + ": bool is " + std::to_string(b) + ", not 0 or 1");
        v.u = b;
        break;
      }
      case GgufType::STRING: v.str = read_string(field); break;
      case GgufType::ARRAY: parse_array(v, key, depth); break;
    }
    return v;
  }

  void parse_array(GgufValue& v, const std::string& key, int depth) {
    check(depth < kMaxArrayDepth, "'" + key + "': arrays nested too deeply");
    v.elem_type = read_type({"element type of", key});
    auto n = read<std::uint64_t>({"element count of", key});
    check(n <= remaining() / min_value_bytes(v.elem_type),
          "'" + key + "': array count " + std::to_string(n) + " is past the end of the file");
    v.items.reserve(n);
    for (std::uint64_t k = 0; k < n; ++k) v.items.push_back(parse_value(v.elem_type, key, depth + 1));
  }

  void read_alignment() {
    const GgufValue* a = f_.find("general.alignment");
    if (!a) return;
    check(a->type == GgufType::U32, "general.alignment must be uint32, not " +
                                        std::string(gguf_type_name(a->type)));
    check(a->u > 0 && (a->u & (a->u - 1)) == 0,
          "general.alignment " + std::to_string(a->u) + " is not a power of two");
    f_.alignment_ = static_cast<std::uint32_t>(a->u);
  }

  void parse_tensor_info(std::uint64_t index) {
    GgufTensorInfo t;
    std::string number = "#";  // (not "#" + ...: GCC 12 warns falsely on that)
    number += std::to_string(index);
    t.name = std::string(read_string({"name of tensor", number}));
    const std::string field = "tensor '" + t.name + "'";
    check(!t.name.empty(), "tensor #" + std::to_string(index) + " has an empty name");
    auto n_dims = read<std::uint32_t>({"n_dims of tensor", t.name});
    check(n_dims <= kMaxDims, field + ": n_dims " + std::to_string(n_dims) + " > 4");
    for (std::uint32_t d = 0; d < n_dims; ++d) t.dims.push_back(read<std::uint64_t>({"dims of tensor", t.name}));
    t.ggml_type = read<std::uint32_t>({"type of tensor", t.name});
    t.offset = read<std::uint64_t>({"offset of tensor", t.name});
    t.nbytes = tensor_bytes(t, field);
    check(!f_.tensor_index_.count(t.name), "duplicate tensor name '" + t.name + "'");
    f_.tensor_index_.emplace(t.name, f_.tensors_.size());
    f_.tensors_.push_back(std::move(t));
  }

  // Bytes the tensor occupies; rejects unknown types, partial blocks and overflow.
  std::uint64_t tensor_bytes(const GgufTensorInfo& t, const std::string& field) const {
    const GgmlTypeInfo* info = ggml_type_info(t.ggml_type);
    check(info != nullptr, field + ": unknown ggml type " + std::to_string(t.ggml_type));
    constexpr std::uint64_t kLimit = std::numeric_limits<std::int64_t>::max();
    std::uint64_t count = 1;
    for (std::uint64_t d : t.dims) {
      check(d <= kLimit && (d == 0 || count <= kLimit / d), field + ": dims product overflows");
      count *= d;
    }
    std::uint64_t inner = t.dims.empty() ? 1 : t.dims[0];
    auto bs = static_cast<std::uint64_t>(info->block_size);
    check(inner % bs == 0, field + ": first dim " + std::to_string(inner) + " is not a multiple of the " +
                               std::string(info->name) + " block size " + std::to_string(bs));
    std::uint64_t blocks = count / bs;
    check(blocks <= kLimit / info->block_bytes, field + ": byte size overflows");
    return blocks * info->block_bytes;
  }

  void validate_tensor_extents() const {
    const std::uint64_t data_bytes = size_ - std::min<std::uint64_t>(size_, f_.data_offset_);
    std::vector<const GgufTensorInfo*> order;
    for (const auto& t : f_.tensors_) {
      const std::string field = "tensor '" + t.name + "'";
      check(t.offset % f_.alignment_ == 0, field + ": offset " + std::to_string(t.offset) +
                                               " is not a multiple of the alignment " +
                                               std::to_string(f_.alignment_));
      check(t.offset <= data_bytes && t.nbytes <= data_bytes - t.offset,
            field + ": data (offset " + std::to_string(t.offset) + ", " + std::to_string(t.nbytes) +
                " bytes) extends past the end of the file");
      order.push_back(&t);
    }
    std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->offset < b->offset; });
    for (std::size_t k = 1; k < order.size(); ++k) {
      check(order[k - 1]->offset + order[k - 1]->nbytes <= order[k]->offset,
            "tensors '" + order[k - 1]->name + "' and '" + order[k]->name + "' overlap");
    }
  }

  GgufFile& f_;
  const std::uint8_t* data_;
  std::uint64_t size_;
  std::uint64_t pos_ = 0;
  std::uint64_t tensor_count_ = 0;
  std::uint64_t kv_count_ = 0;
};

GgufFile::GgufFile(const std::string& path, FileMode mode) : file_(std::make_unique<MappedFile>(path, mode)) {
  GgufParser(*this).parse();
}

}  // namespace dsv2
