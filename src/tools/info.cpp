#include "tools/info.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <vector>

#include "io/gguf.h"
#include "model/checkpoint.h"
#include "tools/gguf_output.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace dsv2::tools {

namespace {

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string num(double v) {
  return fmt("%g", v);
}

// 15706484224 -> "15,706,484,224"
std::string grouped(std::int64_t v) {
  std::string s = std::to_string(v), out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i > 0 && s[i - 1] != '-' && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out;
}

std::string bytes_human(double b) {
  if (b >= 1e9) return fmt("%.2f GB", b / 1e9);
  if (b >= 1e6) return fmt("%.2f MB", b / 1e6);
  if (b >= 1e3) return fmt("%.2f KB", b / 1e3);
  return fmt("%.0f B", b);
}

// Layer indices as ranges: {0, 1, 2, 5} -> "0-2, 5".
std::string ranges(const std::vector<std::int64_t>& v) {
  std::string out;
  for (std::size_t i = 0; i < v.size();) {
    std::size_t j = i;
    while (j + 1 < v.size() && v[j + 1] == v[j] + 1) ++j;
    if (!out.empty()) out += ", ";
    out += std::to_string(v[i]);
    if (j > i) out.append(1, '-').append(std::to_string(v[j]));
    i = j + 1;
  }
  return out;
}

class Report {
 public:
  void line(const std::string& key, const std::string& value) {
    out_ << key << std::string(key.size() < 15 ? 15 - key.size() : 1, ' ') << value << '\n';
  }
  std::string str() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

void architecture(const Config& c, Report& r) {
  std::vector<std::int64_t> dense;
  for (std::int64_t i = 0; i < c.num_layers; ++i)
    if (!c.is_moe_layer(i)) dense.push_back(i);
  const auto n_dense = static_cast<std::int64_t>(dense.size());
  r.line("layers", std::to_string(c.num_layers) + " (" + std::to_string(n_dense) + " dense, " +
                       std::to_string(c.num_layers - n_dense) + " MoE)");
  r.line("hidden", std::to_string(c.hidden_size));
  r.line("heads", std::to_string(c.num_heads));
  r.line("MLA", "kv_lora_rank " + std::to_string(c.kv_lora_rank) + ", qk_nope_head_dim " +
                    std::to_string(c.qk_nope_head_dim) + ", qk_rope_head_dim " +
                    std::to_string(c.qk_rope_head_dim) + ", v_head_dim " +
                    std::to_string(c.v_head_dim));
  r.line("query LoRA", c.q_lora_rank > 0 ? "rank " + std::to_string(c.q_lora_rank) : "none");
  if (!dense.empty())
    r.line("dense MLP",
           "width " + std::to_string(c.intermediate_size) + " (layers " + ranges(dense) + ")");
  if (c.n_routed_experts == 0) {
    r.line("experts", "none (dense model)");
    return;
  }
  r.line("experts", std::to_string(c.n_routed_experts) + " routed, top-" +
                        std::to_string(c.num_experts_per_tok) + ", " +
                        std::to_string(c.n_shared_experts) + " shared, width " +
                        std::to_string(c.moe_intermediate_size));
  std::string method = c.topk_method == TopkMethod::Greedy
                           ? "greedy"
                           : "group_limited_greedy (n_group " + std::to_string(c.n_group) +
                                 ", topk_group " + std::to_string(c.topk_group) + ")";
  r.line("routing", method + ", routed_scaling_factor " + num(c.routed_scaling_factor) +
                        ", norm_topk_prob " + (c.norm_topk_prob ? "true" : "false"));
}

void positions(const Config& c, Report& r) {
  std::string rope = "theta " + num(c.rope.theta);
  if (c.rope.scaling == RopeScaling::Yarn) {
    rope += ", yarn factor " + num(c.rope.factor) + ", original_max_position " +
            std::to_string(c.rope.original_max_position) + ", beta_fast " + num(c.rope.beta_fast) +
            ", beta_slow " + num(c.rope.beta_slow) + ", mscale " + num(c.rope.mscale) +
            ", mscale_all_dim " + num(c.rope.mscale_all_dim);
  } else if (c.rope.scaling == RopeScaling::Linear) {
    rope += ", linear factor " + num(c.rope.factor);
  }
  r.line("rope", rope);
  const bool yarn_scaled = c.rope.scaling == RopeScaling::Yarn && c.rope.mscale_all_dim != 0.0;
  r.line("softmax scale", fmt("%.6f", c.softmax_scale()) + " (1/sqrt(" +
                              std::to_string(c.qk_head_dim()) + ")" +
                              (yarn_scaled ? " x yarn mscale^2)" : ")"));
  r.line("max positions", std::to_string(c.max_position_embeddings));
  r.line("vocab", std::to_string(c.vocab_size));
  r.line("rms_norm_eps", num(c.rms_norm_eps));
  r.line("torch_dtype", c.torch_dtype);
}

void sizes(const Config& c, Report& r) {
  const ParamCounts p = count_params(c);
  auto b = [](std::int64_t n) {
    return fmt("%.2fB", static_cast<double>(n) / 1e9) + " (" + grouped(n) + ")";
  };
  r.line("params", "total " + b(p.total) + ", active per token " + b(p.active));
  const KvCachePerToken kv = kv_cache_per_token(c);
  auto cache = [](std::int64_t values) {
    return std::to_string(values * 4) + " bytes f32, " + std::to_string(values * 2) + " bytes bf16";
  };
  r.line("KV cache/token", cache(kv.mla_values) + " (MLA: " + std::to_string(c.num_layers) +
                               " layers x " + std::to_string(c.kv_cache_width()) + " values)");
  r.line("",
         "uncompressed MHA would need " + cache(kv.mha_values) + " (" +
             fmt("%.1fx", static_cast<double>(kv.mha_values) / static_cast<double>(kv.mla_values)) +
             ")");
  r.line("", "full context (" + std::to_string(c.max_position_embeddings) + " tokens): " +
                 bytes_human(2.0 * static_cast<double>(kv.mla_values * c.max_position_embeddings)) +
                 " bf16");
}

void files(const std::string& dir, Report& r) {
  std::vector<std::pair<std::string, std::uintmax_t>> found;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".safetensors")
      found.emplace_back(e.path().filename().string(), e.file_size());
  std::sort(found.begin(), found.end());
  if (found.empty()) {
    r.line("files", "no .safetensors files");
    return;
  }
  std::uintmax_t total = 0;
  for (std::size_t i = 0; i < found.size(); ++i) {
    r.line(i == 0 ? "files" : "",
           found[i].first + "  " + bytes_human(static_cast<double>(found[i].second)));
    total += found[i].second;
  }
  r.line("", std::to_string(found.size()) + (found.size() == 1 ? " file, " : " files, ") +
                 bytes_human(static_cast<double>(total)) + " (" +
                 grouped(static_cast<std::int64_t>(total)) + " bytes)");
}

// A GGUF file: its size, its llama.cpp file type, and the bytes of weights of each type (a Q4_K_M
// file mixes several).
void gguf_weights(const Checkpoint& ck, const std::string& path, Report& r) {
  const GgufFile file(path);  // the header again (mapped): Checkpoint keeps no metadata
  if (file.has("general.file_type"))
    r.line("file type", llama_file_type_name(static_cast<std::uint32_t>(file.get_uint("general.file_type"))));
  std::map<DType, double> by_type;
  for (const auto& [name, t] : ck.tensors()) by_type[t.dtype] += static_cast<double>(t.nbytes());
  std::string types;
  for (const auto& [type, bytes] : by_type)
    types += (types.empty() ? "" : ", ") + std::string(dtype_name(type)) + " " + bytes_human(bytes);
  r.line("weights", types);
  const auto size = fs::file_size(path);
  r.line("file", fs::path(path).filename().string() + "  " + bytes_human(static_cast<double>(size)) + " (" +
                     grouped(static_cast<std::int64_t>(size)) + " bytes)");
}

Report describe(const std::string& path, const Config& c) {
  Report r;
  r.line("model", path);
  architecture(c, r);
  positions(c, r);
  sizes(c, r);
  return r;
}

}  // namespace

KvCachePerToken kv_cache_per_token(const Config& c) {
  return {c.num_layers * c.kv_cache_width(),
          c.num_layers * c.num_heads * (c.qk_head_dim() + c.v_head_dim)};
}

std::string model_info(const std::string& path) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) {
    // Mapped, not read: only the header and tensor table are touched.
    const auto ck = Checkpoint::open_gguf(path, FileMode::Map);
    Report r = describe(path, ck->config());
    gguf_weights(*ck, path, r);
    return r.str();
  }
  check(fs::is_directory(path, ec), path + ": no such model directory or GGUF file");
  const std::string config_path = (fs::path(path) / "config.json").string();
  check(fs::exists(config_path, ec), path + ": no config.json (not a Hugging Face model directory)");
  Report r = describe(path, Config::from_file(config_path));
  files(path, r);
  return r.str();
}

}  // namespace dsv2::tools
