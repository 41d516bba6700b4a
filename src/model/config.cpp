#include "model/config.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "io/mapped_file.h"
#include "util/error.h"

namespace dsv2 {

using nlohmann::json;

namespace {

// Reads j[key] as T if present and non-null, leaving `out` at its default otherwise.
// Type mismatches name the file and the field.
template <typename T>
void read_opt(const json& j, const char* key, T* out, const std::string& src) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return;
  try {
    if constexpr (std::is_same_v<T, bool>) {
      if (!it->is_boolean()) throw Error("expected a boolean");
    } else if constexpr (std::is_integral_v<T>) {
      if (!it->is_number_integer() && !(it->is_number_float() && std::floor(it->get<double>()) == it->get<double>()))
        throw Error("expected an integer");
    } else if constexpr (std::is_floating_point_v<T>) {
      if (!it->is_number()) throw Error("expected a number");
    } else {
      if (!it->is_string()) throw Error("expected a string");
    }
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      *out = static_cast<T>(it->get<double>());
    } else {
      *out = it->get<T>();
    }
  } catch (const std::exception& e) {
    throw Error(src + ": field '" + key + "': " + e.what() + ", got " + it->dump());
  }
}

void require_positive(int64_t v, const char* key, const std::string& src) {
  check(v > 0, src + ": field '" + key + "' must be positive, got " + std::to_string(v));
}

RopeConfig parse_rope(const json& j, const std::string& src) {
  RopeConfig r;
  read_opt(j, "rope_theta", &r.theta, src);
  check(r.theta > 1.0, src + ": field 'rope_theta' must be > 1");
  auto it = j.find("rope_scaling");
  if (it == j.end() || it->is_null()) return r;
  check(it->is_object(), src + ": field 'rope_scaling' must be an object or null");
  const json& rs = *it;
  std::string type;
  const std::string rsrc = src + ": rope_scaling";
  if (rs.contains("type")) read_opt(rs, "type", &type, src);
  else read_opt(rs, "rope_type", &type, src);
  read_opt(rs, "factor", &r.factor, src);
  check(r.factor > 0, rsrc + ".factor must be positive");
  // The reference scales the softmax by mscale_all_dim whatever the scaling type.
  read_opt(rs, "mscale_all_dim", &r.mscale_all_dim, src);
  if (type == "yarn") {
    r.scaling = RopeScaling::Yarn;
    read_opt(rs, "original_max_position_embeddings", &r.original_max_position, src);
    read_opt(rs, "beta_fast", &r.beta_fast, src);
    read_opt(rs, "beta_slow", &r.beta_slow, src);
    read_opt(rs, "mscale", &r.mscale, src);
    require_positive(r.original_max_position, "rope_scaling.original_max_position_embeddings", src);
  } else if (type == "linear") {
    r.scaling = RopeScaling::Linear;
  } else if (type == "dynamic") {
    throw Error(rsrc + ".type 'dynamic' (NTK) is not supported by dsv2 yet");
  } else {
    throw Error(rsrc + ".type '" + type + "' is unknown (expected yarn, linear or dynamic)");
  }
  return r;
}

void parse_moe(const json& j, Config* c, const std::string& src) {
  read_opt(j, "n_routed_experts", &c->n_routed_experts, src);
  read_opt(j, "n_shared_experts", &c->n_shared_experts, src);
  read_opt(j, "num_experts_per_tok", &c->num_experts_per_tok, src);
  read_opt(j, "routed_scaling_factor", &c->routed_scaling_factor, src);
  read_opt(j, "moe_layer_freq", &c->moe_layer_freq, src);
  read_opt(j, "first_k_dense_replace", &c->first_k_dense_replace, src);
  read_opt(j, "norm_topk_prob", &c->norm_topk_prob, src);
  read_opt(j, "moe_intermediate_size", &c->moe_intermediate_size, src);
  std::string method = "gready", scoring = "softmax";
  read_opt(j, "topk_method", &method, src);
  read_opt(j, "scoring_func", &scoring, src);
  if (method == "greedy" || method == "gready") c->topk_method = TopkMethod::Greedy;
  else if (method == "group_limited_greedy") c->topk_method = TopkMethod::GroupLimitedGreedy;
  else throw Error(src + ": field 'topk_method' value '" + method +
                   "' is unsupported (expected greedy, gready or group_limited_greedy)");
  check(scoring == "softmax", src + ": field 'scoring_func' value '" + scoring +
                                  "' is unsupported (only softmax)");
  if (c->n_routed_experts == 0) return;
  require_positive(c->num_experts_per_tok, "num_experts_per_tok", src);
  require_positive(c->moe_intermediate_size, "moe_intermediate_size", src);
  require_positive(c->moe_layer_freq, "moe_layer_freq", src);
  check(c->num_experts_per_tok <= c->n_routed_experts,
        src + ": field 'num_experts_per_tok' exceeds n_routed_experts");
  check(c->n_shared_experts >= 0, src + ": field 'n_shared_experts' must be >= 0");
  if (c->topk_method == TopkMethod::GroupLimitedGreedy) {
    read_opt(j, "n_group", &c->n_group, src);
    read_opt(j, "topk_group", &c->topk_group, src);
    require_positive(c->n_group, "n_group", src);
    check(c->n_routed_experts % c->n_group == 0,
          src + ": field 'n_group' must divide n_routed_experts");
    check(c->topk_group >= 1 && c->topk_group <= c->n_group,
          src + ": field 'topk_group' must be in [1, n_group]");
    check(c->topk_group * (c->n_routed_experts / c->n_group) >= c->num_experts_per_tok,
          src + ": topk_group groups hold fewer experts than num_experts_per_tok");
  }
}

}  // namespace

bool Config::is_moe_layer(int64_t layer) const {
  return n_routed_experts > 0 && layer >= first_k_dense_replace && layer % moe_layer_freq == 0;
}

double yarn_get_mscale(double scale, double mscale) {
  return scale <= 1.0 ? 1.0 : 0.1 * mscale * std::log(scale) + 1.0;
}

double Config::softmax_scale() const {
  double s = 1.0 / std::sqrt(static_cast<double>(qk_head_dim()));
  if (rope.scaling != RopeScaling::None && rope.mscale_all_dim != 0.0) {
    double m = yarn_get_mscale(rope.factor, rope.mscale_all_dim);
    s *= m * m;
  }
  return s;
}

Config Config::from_json(const json& j, const std::string& src) {
  check(j.is_object(), src + ": expected a JSON object");
  Config c;
  read_opt(j, "vocab_size", &c.vocab_size, src);
  read_opt(j, "hidden_size", &c.hidden_size, src);
  read_opt(j, "intermediate_size", &c.intermediate_size, src);
  read_opt(j, "num_hidden_layers", &c.num_layers, src);
  read_opt(j, "num_attention_heads", &c.num_heads, src);
  read_opt(j, "kv_lora_rank", &c.kv_lora_rank, src);
  read_opt(j, "qk_nope_head_dim", &c.qk_nope_head_dim, src);
  read_opt(j, "qk_rope_head_dim", &c.qk_rope_head_dim, src);
  read_opt(j, "v_head_dim", &c.v_head_dim, src);
  read_opt(j, "rms_norm_eps", &c.rms_norm_eps, src);
  read_opt(j, "max_position_embeddings", &c.max_position_embeddings, src);
  read_opt(j, "tie_word_embeddings", &c.tie_word_embeddings, src);
  read_opt(j, "bos_token_id", &c.bos_token_id, src);
  read_opt(j, "eos_token_id", &c.eos_token_id, src);
  read_opt(j, "torch_dtype", &c.torch_dtype, src);
  if (j.contains("q_lora_rank")) {  // explicit null means "no query LoRA"
    c.q_lora_rank = 0;
    read_opt(j, "q_lora_rank", &c.q_lora_rank, src);
  }
  std::string act = "silu";
  read_opt(j, "hidden_act", &act, src);
  check(act == "silu", src + ": field 'hidden_act' value '" + act + "' is unsupported (only silu)");
  for (auto [v, k] : {std::pair{c.vocab_size, "vocab_size"}, {c.hidden_size, "hidden_size"},
                      {c.num_layers, "num_hidden_layers"}, {c.num_heads, "num_attention_heads"},
                      {c.kv_lora_rank, "kv_lora_rank"}, {c.qk_nope_head_dim, "qk_nope_head_dim"},
                      {c.v_head_dim, "v_head_dim"}, {c.max_position_embeddings, "max_position_embeddings"}})
    require_positive(v, k, src);
  check(c.qk_rope_head_dim > 0 && c.qk_rope_head_dim % 2 == 0,
        src + ": field 'qk_rope_head_dim' must be a positive even number");
  check(c.q_lora_rank >= 0, src + ": field 'q_lora_rank' must be positive or null");
  check(c.rms_norm_eps > 0, src + ": field 'rms_norm_eps' must be positive");
  c.rope = parse_rope(j, src);
  parse_moe(j, &c, src);
  if (c.n_routed_experts == 0 || c.first_k_dense_replace > 0)
    require_positive(c.intermediate_size, "intermediate_size", src);
  return c;
}

Config Config::from_file(const std::string& path) {
  std::string text = read_text_file(path);
  json j = json::parse(text, nullptr, false);
  check(!j.is_discarded(), path + ": not valid JSON");
  return from_json(j, path);
}

json Config::to_json() const {
  json j = {
      {"architectures", {"DeepseekV2ForCausalLM"}}, {"model_type", "deepseek_v2"},
      {"vocab_size", vocab_size}, {"hidden_size", hidden_size},
      {"intermediate_size", intermediate_size}, {"moe_intermediate_size", moe_intermediate_size},
      {"num_hidden_layers", num_layers}, {"num_attention_heads", num_heads},
      {"num_key_value_heads", num_heads}, {"kv_lora_rank", kv_lora_rank},
      {"q_lora_rank", q_lora_rank > 0 ? json(q_lora_rank) : json(nullptr)},
      {"qk_nope_head_dim", qk_nope_head_dim}, {"qk_rope_head_dim", qk_rope_head_dim},
      {"v_head_dim", v_head_dim}, {"rms_norm_eps", rms_norm_eps},
      {"max_position_embeddings", max_position_embeddings}, {"rope_theta", rope.theta},
      {"hidden_act", "silu"}, {"tie_word_embeddings", tie_word_embeddings},
      {"bos_token_id", bos_token_id}, {"eos_token_id", eos_token_id},
      {"torch_dtype", torch_dtype}, {"scoring_func", "softmax"},
      {"first_k_dense_replace", first_k_dense_replace}, {"moe_layer_freq", moe_layer_freq},
      {"norm_topk_prob", norm_topk_prob}, {"routed_scaling_factor", routed_scaling_factor},
      {"topk_method", topk_method == TopkMethod::Greedy ? "greedy" : "group_limited_greedy"},
      {"n_group", n_group}, {"topk_group", topk_group},
  };
  j["n_routed_experts"] = n_routed_experts > 0 ? json(n_routed_experts) : json(nullptr);
  j["n_shared_experts"] = n_shared_experts > 0 ? json(n_shared_experts) : json(nullptr);
  j["num_experts_per_tok"] = n_routed_experts > 0 ? json(num_experts_per_tok) : json(nullptr);
  if (rope.scaling == RopeScaling::Yarn) {
    j["rope_scaling"] = {{"type", "yarn"}, {"factor", rope.factor},
                         {"original_max_position_embeddings", rope.original_max_position},
                         {"beta_fast", rope.beta_fast}, {"beta_slow", rope.beta_slow},
                         {"mscale", rope.mscale}, {"mscale_all_dim", rope.mscale_all_dim}};
  } else if (rope.scaling == RopeScaling::Linear) {
    j["rope_scaling"] = {{"type", "linear"}, {"factor", rope.factor}};
    if (rope.mscale_all_dim != 0.0) j["rope_scaling"]["mscale_all_dim"] = rope.mscale_all_dim;
  } else {
    j["rope_scaling"] = nullptr;
  }
  return j;
}

std::vector<TensorSpec> expected_tensors(const Config& c) {
  const int64_t H = c.hidden_size, nh = c.num_heads;
  std::vector<TensorSpec> t;
  t.push_back({"model.embed_tokens.weight", {c.vocab_size, H}});
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    t.push_back({p + "input_layernorm.weight", {H}});
    t.push_back({p + "post_attention_layernorm.weight", {H}});
    const std::string a = p + "self_attn.";
    if (c.q_lora_rank > 0) {
      t.push_back({a + "q_a_proj.weight", {c.q_lora_rank, H}});
      t.push_back({a + "q_a_layernorm.weight", {c.q_lora_rank}});
      t.push_back({a + "q_b_proj.weight", {nh * c.qk_head_dim(), c.q_lora_rank}});
    } else {
      t.push_back({a + "q_proj.weight", {nh * c.qk_head_dim(), H}});
    }
    t.push_back({a + "kv_a_proj_with_mqa.weight", {c.kv_lora_rank + c.qk_rope_head_dim, H}});
    t.push_back({a + "kv_a_layernorm.weight", {c.kv_lora_rank}});
    t.push_back({a + "kv_b_proj.weight", {nh * (c.qk_nope_head_dim + c.v_head_dim), c.kv_lora_rank}});
    t.push_back({a + "o_proj.weight", {H, nh * c.v_head_dim}});
    const std::string m = p + "mlp.";
    auto mlp = [&](const std::string& prefix, int64_t width) {
      t.push_back({prefix + "gate_proj.weight", {width, H}});
      t.push_back({prefix + "up_proj.weight", {width, H}});
      t.push_back({prefix + "down_proj.weight", {H, width}});
    };
    if (!c.is_moe_layer(i)) {
      mlp(m, c.intermediate_size);
      continue;
    }
    t.push_back({m + "gate.weight", {c.n_routed_experts, H}});
    for (int64_t e = 0; e < c.n_routed_experts; ++e)
      mlp(m + "experts." + std::to_string(e) + ".", c.moe_intermediate_size);
    if (c.n_shared_experts > 0) mlp(m + "shared_experts.", c.moe_intermediate_size * c.n_shared_experts);
  }
  t.push_back({"model.norm.weight", {H}});
  t.push_back({"lm_head.weight", {c.vocab_size, H}});
  return t;
}

ParamCounts count_params(const Config& c) {
  ParamCounts pc;
  const std::string expert = ".experts.";
  for (const TensorSpec& s : expected_tensors(c)) {
    int64_t n = 1;
    for (int64_t d : s.shape) n *= d;
    pc.total += n;
    // The embedding is a lookup of one row, not a matmul: DeepSeek's published active counts
    // (Lite 2.4B of 15.7B, 236B 21B of 236B) leave it out, and so do we.
    if (s.name.find(expert) == std::string::npos && s.name != "model.embed_tokens.weight")
      pc.active += n;
  }
  // Routed experts: only num_experts_per_tok of them run per token in each MoE layer.
  int64_t per_expert = 3 * c.hidden_size * c.moe_intermediate_size;
  for (int64_t i = 0; i < c.num_layers; ++i)
    if (c.is_moe_layer(i)) pc.active += c.num_experts_per_tok * per_expert;
  return pc;
}

}  // namespace dsv2
