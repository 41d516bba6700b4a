// The DeepSeek-V2 hyper-parameters, read from a Hugging Face config.json. Absent keys take the
// defaults of DeepSeek's DeepseekV2Config (reference doc §6); unsupported values are errors.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace dsv2 {

enum class TopkMethod { Greedy, GroupLimitedGreedy };
enum class RopeScaling { None, Linear, Yarn };

struct RopeConfig {
  double theta = 10000.0;
  RopeScaling scaling = RopeScaling::None;
  double factor = 1.0;
  // YaRN (defaults for absent keys per the reference code)
  int64_t original_max_position = 4096;
  double beta_fast = 32.0, beta_slow = 1.0, mscale = 1.0, mscale_all_dim = 0.0;
};

struct Config {
  int64_t vocab_size = 102400;
  int64_t hidden_size = 4096;
  int64_t intermediate_size = 11008;       // dense MLP width
  int64_t moe_intermediate_size = 1407;    // one routed expert's width
  int64_t num_layers = 30;
  int64_t num_heads = 32;
  int64_t n_shared_experts = 0;            // null in config = no shared experts
  int64_t n_routed_experts = 0;            // 0 (null) = dense model
  int64_t num_experts_per_tok = 0;
  double routed_scaling_factor = 1.0;
  TopkMethod topk_method = TopkMethod::Greedy;  // "gready" is the default spelling
  int64_t n_group = 1, topk_group = 1;
  int64_t moe_layer_freq = 1;
  int64_t first_k_dense_replace = 0;
  bool norm_topk_prob = false;
  int64_t q_lora_rank = 1536;              // 0 = no query LoRA (null in config)
  int64_t kv_lora_rank = 512;
  int64_t qk_nope_head_dim = 128, qk_rope_head_dim = 64, v_head_dim = 128;
  double rms_norm_eps = 1e-6;
  int64_t max_position_embeddings = 2048;
  RopeConfig rope;
  bool tie_word_embeddings = false;
  int64_t bos_token_id = 100000, eos_token_id = 100001;
  std::string torch_dtype = "float32";

  int64_t qk_head_dim() const { return qk_nope_head_dim + qk_rope_head_dim; }
  bool is_moe_layer(int64_t layer) const;  // the reference's rule, i % freq (not (i-k) % freq)
  // Values cached per token per layer by the compressed (MLA) KV cache.
  int64_t kv_cache_width() const { return kv_lora_rank + qk_rope_head_dim; }
  double softmax_scale() const;  // dq^-1/2, times the YaRN mscale_all_dim factor squared

  // Parses and validates; `source` names the file in error messages.
  static Config from_json(const nlohmann::json& j, const std::string& source);
  static Config from_file(const std::string& path);
  nlohmann::json to_json() const;  // the HF config.json form (for synth and convert)
};

// YaRN's attention magnitude factor g(s, m) = 0.1 m ln s + 1 (1 when s <= 1).
double yarn_get_mscale(double scale, double mscale);

// Every tensor a checkpoint for this config must contain, in HF names, with its shape.
struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
};
std::vector<TensorSpec> expected_tensors(const Config& c);

// Parameter counts: total, and active per token (everything but the embedding table and the
// routed experts, plus top-k routed experts per MoE layer), as DeepSeek counts them.
struct ParamCounts {
  int64_t total = 0, active = 0;
};
ParamCounts count_params(const Config& c);

}  // namespace dsv2
