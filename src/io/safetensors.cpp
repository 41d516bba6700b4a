#include "io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <vector>

#include "util/error.h"

namespace dsv2 {

namespace {

constexpr std::uint64_t kMaxHeaderBytes = 100u << 20;  // the format's own limit is 100 MB

bool parse_dtype(const std::string& s, DType* out) {
  if (s == "F32") *out = DType::F32;
  else if (s == "BF16") *out = DType::BF16;
  else if (s == "F16") *out = DType::F16;
  else if (s == "I32") *out = DType::I32;
  else if (s == "I64") *out = DType::I64;
  else return false;
  return true;
}

struct Range {
  std::uint64_t begin, end;
  const std::string* name;
};

// Multiplies the dims, failing on negative dims or overflow past the file size.
std::uint64_t checked_numel(const std::vector<std::int64_t>& shape, std::uint64_t limit, bool* ok) {
  std::uint64_t n = 1;
  *ok = true;
  for (std::int64_t d : shape) {
    if (d < 0 || (d > 0 && n > limit / static_cast<std::uint64_t>(d) + 1)) *ok = false;
    if (!*ok) return 0;
    n *= static_cast<std::uint64_t>(d);
  }
  return n;
}

}  // namespace

SafetensorsFile::SafetensorsFile(const std::string& path, FileMode mode)
    : file_(std::make_unique<MappedFile>(path, mode)) {
  parse_header();
}

void SafetensorsFile::parse_header() {
  const std::string& path = file_->path();
  const std::size_t size = file_->size();
  check(size >= 8, path + ": truncated safetensors file (" + std::to_string(size) + " bytes, no header length)");
  std::uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | file_->data()[i];
  check(header_len <= kMaxHeaderBytes && header_len <= size - 8,
        path + ": bad safetensors header length " + std::to_string(header_len) + " (file has " +
            std::to_string(size) + " bytes)");
  const char* hdr = reinterpret_cast<const char*>(file_->data() + 8);
  nlohmann::json j = nlohmann::json::parse(hdr, hdr + header_len, nullptr, false);
  check(!j.is_discarded() && j.is_object(), path + ": safetensors header is not a JSON object");

  const std::uint8_t* data = file_->data() + 8 + header_len;
  const std::uint64_t data_size = size - 8 - header_len;
  std::vector<Range> ranges;
  for (auto& [name, info] : j.items()) {
    if (name == "__metadata__") continue;
    const std::string where = path + ": tensor '" + name + "'";
    check(info.is_object(), where + ": entry is not an object");
    auto dt = info.find("dtype"), sh = info.find("shape"), off = info.find("data_offsets");
    check(dt != info.end() && dt->is_string(), where + ": missing or non-string 'dtype'");
    check(sh != info.end() && sh->is_array(), where + ": missing or non-array 'shape'");
    check(off != info.end() && off->is_array() && off->size() == 2 && (*off)[0].is_number_unsigned() &&
              (*off)[1].is_number_unsigned(),
          where + ": 'data_offsets' must be two non-negative integers");
    Tensor t;
    check(parse_dtype(dt->get<std::string>(), &t.dtype),
          where + ": unsupported dtype '" + dt->get<std::string>() + "'");
    for (auto& d : *sh) {
      check(d.is_number_integer() && d.get<std::int64_t>() >= 0, where + ": bad shape " + sh->dump());
      t.shape.push_back(d.get<std::int64_t>());
    }
    const std::uint64_t begin = (*off)[0].get<std::uint64_t>(), end = (*off)[1].get<std::uint64_t>();
    check(begin <= end && end <= data_size,
          where + ": data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
              ") outside the data section of " + std::to_string(data_size) + " bytes");
    bool ok;
    const std::uint64_t numel = checked_numel(t.shape, data_size, &ok);
    const std::uint64_t elem = dtype_info(t.dtype).block_bytes;
    check(ok && numel * elem == end - begin,
          where + ": shape " + shape_str(t.shape) + " of " + dt->get<std::string>() + " needs " +
              (ok ? std::to_string(numel * elem) : std::string("too many")) + " bytes, offsets give " +
              std::to_string(end - begin));
    t.data = data + begin;
    auto [it, inserted] = tensors_.emplace(name, t);
    ranges.push_back({begin, end, &it->first});
  }
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) { return a.begin < b.begin; });
  for (std::size_t i = 1; i < ranges.size(); ++i) {
    check(ranges[i].begin >= ranges[i - 1].end || ranges[i].begin == ranges[i].end ||
              ranges[i - 1].begin == ranges[i - 1].end,
          path + ": tensors '" + *ranges[i - 1].name + "' and '" + *ranges[i].name + "' overlap");
  }
}

}  // namespace dsv2
