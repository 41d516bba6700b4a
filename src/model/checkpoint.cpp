#include "model/checkpoint.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "io/gguf.h"
#include "io/mapped_file.h"
#include "io/safetensors.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace dsv2 {

namespace {

// The shard files of a sharded checkpoint, from its index's weight_map.
std::vector<std::string> shards_from_index(const std::string& index_path) {
  nlohmann::json j = nlohmann::json::parse(read_text_file(index_path), nullptr, false);
  check(!j.is_discarded() && j.is_object(), index_path + ": not a JSON object");
  auto wm = j.find("weight_map");
  check(wm != j.end() && wm->is_object(), index_path + ": missing object field 'weight_map'");
  std::set<std::string> files;
  for (auto& [name, file] : wm->items()) {
    check(file.is_string(), index_path + ": weight_map['" + name + "'] is not a string");
    const std::string f = file.get<std::string>();
    check(f.find('/') == std::string::npos && f.find("..") == std::string::npos,
          index_path + ": weight_map['" + name + "'] names a file outside the directory: " + f);
    files.insert(f);
  }
  return {files.begin(), files.end()};
}

std::vector<std::string> find_weight_files(const std::string& dir) {
  const std::string index = dir + "/model.safetensors.index.json";
  if (fs::exists(index)) {
    std::vector<std::string> paths;
    for (const auto& f : shards_from_index(index)) paths.push_back(dir + "/" + f);
    return paths;
  }
  if (fs::exists(dir + "/model.safetensors")) return {dir + "/model.safetensors"};
  std::vector<std::string> paths;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".safetensors") paths.push_back(e.path().string());
  check(!paths.empty(), dir + ": no *.safetensors weight files found");
  std::sort(paths.begin(), paths.end());
  return paths;
}

}  // namespace

Checkpoint::~Checkpoint() = default;

std::unique_ptr<Checkpoint> Checkpoint::open_hf_dir(const std::string& dir, FileMode mode) {
  check(fs::is_directory(dir), dir + ": not a directory (expected a Hugging Face checkpoint)");
  std::unique_ptr<Checkpoint> ck(new Checkpoint());
  ck->source_ = dir;
  ck->config_ = Config::from_file(dir + "/config.json");
  for (const auto& path : find_weight_files(dir)) ck->add_file(std::make_unique<SafetensorsFile>(path, mode));
  ck->validate();
  return ck;
}

std::unique_ptr<Checkpoint> Checkpoint::open(const std::string& path, FileMode mode) {
  check(fs::exists(path), path + ": no such file or directory");
  if (fs::is_directory(path)) return open_hf_dir(path, mode);
  return open_gguf(path, mode);
}

std::unique_ptr<Checkpoint> Checkpoint::from_memory(Config config, std::map<std::string, Tensor> tensors,
                                                   std::shared_ptr<const void> owner, std::string source) {
  std::unique_ptr<Checkpoint> ck(new Checkpoint());
  ck->config_ = std::move(config);
  ck->source_ = std::move(source);
  ck->owner_ = std::move(owner);
  for (const auto& [name, t] : tensors) ck->tensor_file_[name] = ck->source_;
  ck->tensors_ = std::move(tensors);
  ck->validate();
  return ck;
}

void Checkpoint::add_file(std::unique_ptr<SafetensorsFile> file) {
  for (const auto& [name, t] : file->tensors()) {
    auto [it, inserted] = tensors_.emplace(name, t);
    check(inserted, file->path() + ": tensor '" + name + "' also appears in " + tensor_file_[name]);
    tensor_file_[name] = file->path();
    // Kernels read elements in place; a tensor not aligned to its element size gets an aligned copy.
    const std::size_t align = dtype_info(t.dtype).block_bytes;
    if (reinterpret_cast<std::uintptr_t>(t.data) % align != 0) {
      const auto* p = static_cast<const std::uint8_t*>(t.data);
      realigned_.emplace_back(p, p + t.nbytes());
      it->second.data = realigned_.back().data();
    }
  }
  files_.push_back(std::move(file));
}

bool Checkpoint::weights_private() const {
  if (owner_) return true;
  if (gguf_) return gguf_->file().mode() == FileMode::Load;
  for (const auto& f : files_)
    if (f->file().mode() != FileMode::Load) return false;
  return !files_.empty();
}

void Checkpoint::set_weights_writable(bool writable) {
  check(weights_private(), source_ + ": weights are memory-mapped, not private: they cannot be rewritten");
  if (gguf_) gguf_->file().set_writable(writable);
  for (auto& f : files_) f->file().set_writable(writable);
}

const Tensor& Checkpoint::get(const std::string& name) const {
  auto it = tensors_.find(name);
  check(it != tensors_.end(), source_ + ": missing tensor '" + name + "'");
  return it->second;
}

void Checkpoint::validate() const {
  const std::string config_source = gguf_ ? "the GGUF metadata" : "config.json";
  auto check_shape = [&](const std::string& name, const std::vector<std::int64_t>& shape) {
    const Tensor& t = get(name);
    const std::string& file = tensor_file_.at(name);
    check(t.shape == shape, file + ": tensor '" + name + "' has shape " + shape_str(t.shape) +
                                ", " + config_source + " implies " + shape_str(shape));
    check(t.dtype != DType::I32 && t.dtype != DType::I64,
          file + ": tensor '" + name + "' has integer dtype " + std::string(dtype_name(t.dtype)) +
              ", expected a float or quantized weight type");
  };
  const std::string kv_b = "kv_b_proj.weight";
  for (const TensorSpec& spec : expected_tensors(config_)) {
    if (spec.name == "lm_head.weight" && !has(spec.name) && config_.tie_word_embeddings) continue;
    const bool is_kv_b = spec.name.ends_with(kv_b);
    if (!is_kv_b || has(spec.name)) {
      check_shape(spec.name, spec.shape);
      continue;
    }
    // The absorbed layout: W_UK transposed and W_UV, per head, instead of kv_b_proj.
    const std::string p = spec.name.substr(0, spec.name.size() - kv_b.size());
    const std::int64_t nh = config_.num_heads, r = config_.kv_lora_rank;
    check_shape(p + "k_b_proj.weight", {nh * r, config_.qk_nope_head_dim});
    check_shape(p + "v_b_proj.weight", {nh * config_.v_head_dim, r});
  }
}

}  // namespace dsv2
