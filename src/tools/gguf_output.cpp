#include "tools/gguf_output.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "kernels/matmul.h"
#include "util/error.h"

namespace dsv2::tools {

namespace {

constexpr struct {
  const char* suffix;
  QuantMix mix;
} kMixes[] = {{"_s", QuantMix::Small}, {"_m", QuantMix::Medium}};

// llama.cpp's general.file_type numbers (LLAMA_FTYPE_*) and names for the types dsv2 writes. A
// pure Q4_K / Q5_K file gets the _S number, as llama-quantize --pure writes it.
constexpr struct {
  DType base;
  QuantMix mix;
  std::uint32_t number;
  const char* name;
} kFileTypes[] = {
    {DType::F32, QuantMix::Pure, 0, "all F32"},         {DType::F16, QuantMix::Pure, 1, "F16"},
    {DType::Q4_0, QuantMix::Pure, 2, "Q4_0"},            {DType::Q8_0, QuantMix::Pure, 7, "Q8_0"},
    {DType::Q5_0, QuantMix::Pure, 8, "Q5_0"},            {DType::Q5_1, QuantMix::Pure, 9, "Q5_1"},
    {DType::Q4_K, QuantMix::Small, 14, "Q4_K - Small"},  {DType::Q4_K, QuantMix::Medium, 15, "Q4_K - Medium"},
    {DType::Q5_K, QuantMix::Small, 16, "Q5_K - Small"},  {DType::Q5_K, QuantMix::Medium, 17, "Q5_K - Medium"},
    {DType::Q6_K, QuantMix::Pure, 18, "Q6_K"},           {DType::BF16, QuantMix::Pure, 32, "BF16"}};

// llama.cpp's use_more_bits: the first and last eighth of the layers and every third between.
bool more_bits(int layer, int n_layers) {
  return layer < n_layers / 8 || layer >= 7 * n_layers / 8 || (layer - n_layers / 8) % 3 == 2;
}

// llama-quantize's choice in a K-quant mix before any fallback (llama_tensor_get_type without an
// importance matrix, for the tensors a deepseek2 file has: its attn_v / attn_qkv rules name
// tensors this architecture does not have, and its 8-expert rules are Mixtral's).
DType mix_type(const std::string& name, FileType t, int n_layers) {
  if (t.mix == QuantMix::Pure) return t.base;
  if (name == "output.weight") return DType::Q6_K;
  if (name.find("ffn_down") != std::string::npos) {
    const int layer = gguf_block_index(name);
    if (layer >= 0 && t.mix == QuantMix::Medium && more_bits(layer, n_layers)) return DType::Q6_K;
    if (layer >= 0 && t.mix == QuantMix::Small && t.base == DType::Q4_K && layer < n_layers / 8) return DType::Q5_K;
  }
  return t.base;
}

}  // namespace

int gguf_block_index(const std::string& name) {
  if (!name.starts_with("blk.")) return -1;
  int n = 0;
  std::size_t i = 4;
  for (; i < name.size() && i < 12 && name[i] >= '0' && name[i] <= '9'; ++i) n = 10 * n + (name[i] - '0');
  return i > 4 && i < name.size() && name[i] == '.' ? n : -1;
}

FileType parse_file_type(const std::string& name) {
  std::string base = name;  // "q4_k_m" -> "q4_k" and the mix; dtype_from_name ignores case
  QuantMix mix = QuantMix::Pure;
  const std::size_t n = name.size();
  for (const auto& m : kMixes)
    if (n > 2 && name[n - 2] == '_' && std::tolower(static_cast<unsigned char>(name[n - 1])) == m.suffix[1]) {
      base = name.substr(0, n - 2);
      mix = m.mix;
    }
  DType t{};
  const bool ok = dtype_from_name(base, &t) && t != DType::I32 && t != DType::I64 &&
                  (mix == QuantMix::Pure || t == DType::Q4_K || t == DType::Q5_K);
  check(ok, "--type must be one of f32, f16, bf16, q8_0, q5_0, q5_1, q4_0, q4_k, q5_k, q6_k, q4_k_s, q4_k_m, "
            "q5_k_s, q5_k_m; got '" + name + "'");
  return {t, mix};
}

std::string file_type_name(FileType t) {
  std::string name(dtype_name(t.base));
  for (const auto& m : kMixes)
    if (t.mix == m.mix) name += m.suffix;
  return name;
}

DType gguf_tensor_type(const std::string& name, const std::vector<std::int64_t>& shape, FileType type,
                       int n_layers, std::string* note) {
  // Norm vectors are tiny; the router decides which experts run, and llama.cpp never quantizes it.
  if (shape.size() <= 1 || name.ends_with("ffn_gate_inp.weight")) return DType::F32;
  const std::int64_t cols = shape.back();
  const DType chosen = mix_type(name, type, n_layers);
  DType t = chosen;
  if (cols % dtype_info(t).block_size != 0) {
    switch (t) {  // llama.cpp's fallbacks for K-quants
      case DType::Q4_K: t = DType::Q5_0; break;
      case DType::Q5_K: t = DType::Q5_1; break;
      case DType::Q6_K: t = DType::Q8_0; break;
      default: break;
    }
  }
  if (cols % dtype_info(t).block_size != 0) t = DType::F16;
  if (t != chosen && note)
    *note = name + ": row length " + std::to_string(cols) + " is not a multiple of " +
            std::to_string(dtype_info(chosen).block_size) + ", stored as " + std::string(dtype_name(t)) +
            " instead of " + std::string(dtype_name(chosen));
  return t;
}

std::uint32_t llama_file_type(FileType ft) {
  const QuantMix mix = ft.mix == QuantMix::Pure ? QuantMix::Small : ft.mix;  // Small's number, or the only one
  for (const auto& f : kFileTypes)
    if (f.base == ft.base && (f.mix == mix || f.mix == QuantMix::Pure)) return f.number;
  throw Error("no GGUF file type for " + file_type_name(ft));
}

std::string llama_file_type_name(std::uint32_t number) {
  for (const auto& f : kFileTypes)
    if (f.number == number) return f.name;
  return "general.file_type " + std::to_string(number);
}

GgufRowStream::GgufRowStream(GgufWriter& writer, DType type, std::int64_t cols, ThreadPool* pool)
    : writer_(writer), type_(type), cols_(cols), pool_(pool) {}

void GgufRowStream::write(const float* values, std::size_t count) {
  const auto cols = static_cast<std::size_t>(cols_);
  auto emit = [&](const float* rows, std::size_t n_rows) {
    const std::size_t bytes = row_bytes(type_, cols_);
    out_.resize(n_rows * bytes);
    auto part = [&](std::int64_t b, std::int64_t e, int) {
      quantize_rows(type_, rows + b * cols_, e - b, cols_, out_.data() + static_cast<std::size_t>(b) * bytes);
    };
    if (pool_) pool_->parallel_for(static_cast<std::int64_t>(n_rows), part);
    else part(0, static_cast<std::int64_t>(n_rows), 0);
    writer_.write_tensor_chunk(out_.data(), out_.size());
  };
  if (!carry_.empty()) {  // complete the row left over from the last call
    const std::size_t take = std::min(count, cols - carry_.size());
    carry_.insert(carry_.end(), values, values + take);
    values += take;
    count -= take;
    if (carry_.size() < cols) return;
    emit(carry_.data(), 1);
    carry_.clear();
  }
  if (count / cols > 0) emit(values, count / cols);
  carry_.assign(values + count / cols * cols, values + count);
}

GgufProgress::GgufProgress(std::string tool, std::size_t n_tensors, bool enabled)
    : tool_(std::move(tool)), n_(n_tensors), enabled_(enabled), tty_(isatty(2) != 0) {}

void GgufProgress::tensor(std::size_t index, const std::string& name, DType type, std::uint64_t bytes) {
  if (!enabled_) return;
  std::fprintf(stderr, "%s%s: tensor %zu/%zu, %.2f GB written  %-36s %-5s%s", tty_ ? "\r" : "", tool_.c_str(),
               index + 1, n_, static_cast<double>(bytes) / 1e9, name.c_str(),
               std::string(dtype_name(type)).c_str(), tty_ ? "" : "\n");
  std::fflush(stderr);
}

void GgufProgress::note(const std::string& line) {
  if (enabled_) std::fprintf(stderr, "%s%s: %s\n", tty_ ? "\n" : "", tool_.c_str(), line.c_str());
}

void GgufProgress::done(std::uint64_t bytes) {
  if (enabled_) std::fprintf(stderr, "%s%s: done, %.2f GB\n", tty_ ? "\n" : "", tool_.c_str(), static_cast<double>(bytes) / 1e9);
}

}  // namespace dsv2::tools
