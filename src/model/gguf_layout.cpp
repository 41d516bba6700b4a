#include "model/gguf_layout.h"

#include <cmath>

#include "io/gguf.h"
#include "io/gguf_writer.h"
#include "util/error.h"

namespace dsv2 {

namespace {

constexpr const char* kArch = "deepseek2";
// llama.cpp's LLAMA_EXPERT_GATING_FUNC_TYPE_SOFTMAX; DeepSeek-V2 routes with softmax only.
constexpr std::int64_t kGatingSoftmax = 1;

std::string key(const char* suffix) { return std::string(kArch) + "." + suffix; }

void require_positive(const GgufFile& g, std::int64_t v, const char* suffix) {
  check(v > 0, g.path() + ": metadata key '" + key(suffix) + "' must be positive, got " + std::to_string(v));
}

// llama.cpp stores 0.1 * mscale_all_dim as yarn_log_multiplier and uses it both for the
// softmax scale and (as DeepSeek's configs have mscale == mscale_all_dim) for the rope mscale.
RopeConfig read_rope(const GgufFile& g) {
  RopeConfig r;
  r.theta = g.get_float(key("rope.freq_base"), 10000.0);
  const std::string type(g.get_string(key("rope.scaling.type"), "none"));
  if (type == "none") return r;
  r.factor = g.get_float(key("rope.scaling.factor"), 1.0);
  check(r.factor > 0, g.path() + ": metadata key '" + key("rope.scaling.factor") + "' must be positive");
  r.mscale_all_dim = g.get_float(key("rope.scaling.yarn_log_multiplier"), 0.0) / 0.1;
  if (type == "linear") {
    r.scaling = RopeScaling::Linear;
    return r;
  }
  check(type == "yarn", g.path() + ": metadata key '" + key("rope.scaling.type") + "' value '" + type +
                            "' is unsupported (expected none, linear or yarn)");
  r.scaling = RopeScaling::Yarn;
  r.mscale = r.mscale_all_dim;
  r.original_max_position = g.get_int(key("rope.scaling.original_context_length"));
  require_positive(g, r.original_max_position, "rope.scaling.original_context_length");
  r.beta_fast = g.get_float(key("rope.scaling.yarn_beta_fast"), 32.0);
  r.beta_slow = g.get_float(key("rope.scaling.yarn_beta_slow"), 1.0);
  return r;
}

void read_moe(const GgufFile& g, Config& c) {
  c.n_routed_experts = g.get_int(key("expert_count"), 0);
  c.first_k_dense_replace = g.get_int(key("leading_dense_block_count"), 0);
  if (c.n_routed_experts == 0) return;
  c.num_experts_per_tok = g.get_int(key("expert_used_count"));
  c.n_shared_experts = g.get_int(key("expert_shared_count"), 0);
  c.moe_intermediate_size = g.get_int(key("expert_feed_forward_length"));
  c.routed_scaling_factor = g.get_float(key("expert_weights_scale"), 1.0);
  c.norm_topk_prob = g.get_bool(key("expert_weights_norm"), false);
  const std::int64_t gating = g.get_int(key("expert_gating_func"), kGatingSoftmax);
  check(gating == kGatingSoftmax, g.path() + ": metadata key '" + key("expert_gating_func") + "' is " +
                                      std::to_string(gating) + ", only 1 (softmax) is supported");
  c.n_group = g.get_int(key("expert_group_count"), 1);
  c.topk_group = g.get_int(key("expert_group_used_count"), c.n_group);
  if (c.n_group > 1) c.topk_method = TopkMethod::GroupLimitedGreedy;
  require_positive(g, c.num_experts_per_tok, "expert_used_count");
  require_positive(g, c.moe_intermediate_size, "expert_feed_forward_length");
  check(c.num_experts_per_tok <= c.n_routed_experts,
        g.path() + ": metadata key '" + key("expert_used_count") + "' exceeds expert_count");
  check(c.n_group > 0 && c.n_routed_experts % c.n_group == 0 && c.topk_group >= 1 && c.topk_group <= c.n_group,
        g.path() + ": metadata keys '" + key("expert_group_count") + "' / expert_group_used_count are inconsistent");
}

std::int64_t read_vocab(const GgufFile& g) {
  if (g.has(key("vocab_size"))) return g.get_int(key("vocab_size"));
  if (g.has("tokenizer.ggml.tokens")) return static_cast<std::int64_t>(g.get_array("tokenizer.ggml.tokens", GgufType::STRING).items.size());
  const GgufTensorInfo* t = g.find_tensor("token_embd.weight");
  check(t != nullptr && t->dims.size() == 2, g.path() + ": no metadata key '" + key("vocab_size") +
                                                 "', no tokenizer.ggml.tokens and no token_embd.weight");
  return static_cast<std::int64_t>(t->dims[1]);
}

}  // namespace

GgufLayout gguf_layout(const GgufFile& g) {
  return g.has(key("attention.key_length_mla")) ? GgufLayout::Mla : GgufLayout::Legacy;
}

Config config_from_gguf(const GgufFile& g) {
  const std::string arch(g.get_string("general.architecture"));
  check(arch == kArch, g.path() + ": metadata key 'general.architecture' is '" + arch + "', expected 'deepseek2'");
  Config c;
  c.num_layers = g.get_int(key("block_count"));
  c.hidden_size = g.get_int(key("embedding_length"));
  c.intermediate_size = g.get_int(key("feed_forward_length"));
  c.num_heads = g.get_int(key("attention.head_count"));
  c.q_lora_rank = g.get_int(key("attention.q_lora_rank"), 0);
  c.kv_lora_rank = g.get_int(key("attention.kv_lora_rank"));
  c.qk_rope_head_dim = g.get_int(key("rope.dimension_count"));
  const bool mla = gguf_layout(g) == GgufLayout::Mla;
  const std::int64_t dq = g.get_int(key(mla ? "attention.key_length_mla" : "attention.key_length"));
  c.v_head_dim = g.get_int(key(mla ? "attention.value_length_mla" : "attention.value_length"));
  c.qk_nope_head_dim = dq - c.qk_rope_head_dim;
  c.rms_norm_eps = g.get_float(key("attention.layer_norm_rms_epsilon"));
  c.max_position_embeddings = g.get_int(key("context_length"));
  c.vocab_size = read_vocab(g);
  c.tie_word_embeddings = g.find_tensor("output.weight") == nullptr;
  c.bos_token_id = g.get_int("tokenizer.ggml.bos_token_id", c.bos_token_id);
  c.eos_token_id = g.get_int("tokenizer.ggml.eos_token_id", c.eos_token_id);
  for (auto [v, k] : {std::pair{c.num_layers, "block_count"}, {c.hidden_size, "embedding_length"},
                      {c.num_heads, "attention.head_count"}, {c.kv_lora_rank, "attention.kv_lora_rank"},
                      {c.qk_nope_head_dim, "attention.key_length - rope.dimension_count"},
                      {c.v_head_dim, "attention.value_length"}, {c.vocab_size, "vocab_size"},
                      {c.max_position_embeddings, "context_length"}})
    require_positive(g, v, k);
  check(c.qk_rope_head_dim > 0 && c.qk_rope_head_dim % 2 == 0,
        g.path() + ": metadata key '" + key("rope.dimension_count") + "' must be a positive even number");
  check(c.rms_norm_eps > 0, g.path() + ": metadata key '" + key("attention.layer_norm_rms_epsilon") + "' must be positive");
  c.rope = read_rope(g);
  read_moe(g, c);
  return c;
}

void write_gguf_config(GgufWriter& w, const Config& c, GgufLayout layout) {
  using V = GgufWriteValue;
  auto u32 = [](std::int64_t v) { return V::u32(static_cast<std::uint32_t>(v)); };
  auto f32 = [](double v) { return V::f32(static_cast<float>(v)); };
  check(c.moe_layer_freq == 1, "convert: moe_layer_freq " + std::to_string(c.moe_layer_freq) +
                                   " cannot be expressed in GGUF (llama.cpp assumes 1)");
  check(c.rope.scaling != RopeScaling::Yarn || c.rope.mscale == c.rope.mscale_all_dim,
        "convert: rope_scaling mscale != mscale_all_dim cannot be expressed in GGUF");
  w.set("general.architecture", V::string(kArch));
  w.set(key("block_count"), u32(c.num_layers));
  w.set(key("context_length"), u32(c.max_position_embeddings));
  w.set(key("embedding_length"), u32(c.hidden_size));
  w.set(key("feed_forward_length"), u32(c.intermediate_size));
  // MLA stores one compressed "KV head" (MQA); the legacy layout decompresses to nh heads.
  w.set(key("attention.head_count"), u32(c.num_heads));
  w.set(key("attention.head_count_kv"), u32(layout == GgufLayout::Mla ? 1 : c.num_heads));
  w.set(key("rope.freq_base"), f32(c.rope.theta));
  w.set(key("attention.layer_norm_rms_epsilon"), f32(c.rms_norm_eps));
  w.set(key("vocab_size"), u32(c.vocab_size));
  w.set(key("leading_dense_block_count"), u32(c.first_k_dense_replace));
  // Written as 0 when there is no query LoRA: llama.cpp requires the key except for the layer
  // counts of the models it knows (27 layers: V2-Lite), so a smaller model would not load.
  w.set(key("attention.q_lora_rank"), u32(c.q_lora_rank));
  w.set(key("attention.kv_lora_rank"), u32(c.kv_lora_rank));
  if (layout == GgufLayout::Mla) {
    w.set(key("attention.key_length"), u32(c.kv_lora_rank + c.qk_rope_head_dim));
    w.set(key("attention.value_length"), u32(c.kv_lora_rank));
    w.set(key("attention.key_length_mla"), u32(c.qk_head_dim()));
    w.set(key("attention.value_length_mla"), u32(c.v_head_dim));
  } else {
    w.set(key("attention.key_length"), u32(c.qk_head_dim()));
    w.set(key("attention.value_length"), u32(c.v_head_dim));
  }
  w.set(key("rope.dimension_count"), u32(c.qk_rope_head_dim));
  if (c.n_routed_experts > 0) {
    w.set(key("expert_feed_forward_length"), u32(c.moe_intermediate_size));
    w.set(key("expert_count"), u32(c.n_routed_experts));
    w.set(key("expert_used_count"), u32(c.num_experts_per_tok));
    w.set(key("expert_shared_count"), u32(c.n_shared_experts));
    w.set(key("expert_weights_scale"), f32(c.routed_scaling_factor));
    w.set(key("expert_weights_norm"), V::boolean(c.norm_topk_prob));
    w.set(key("expert_gating_func"), u32(kGatingSoftmax));
    if (c.topk_method == TopkMethod::GroupLimitedGreedy) {
      w.set(key("expert_group_count"), u32(c.n_group));
      w.set(key("expert_group_used_count"), u32(c.topk_group));
    }
  }
  if (c.rope.scaling == RopeScaling::None) return;
  w.set(key("rope.scaling.type"), V::string(c.rope.scaling == RopeScaling::Yarn ? "yarn" : "linear"));
  w.set(key("rope.scaling.factor"), f32(c.rope.factor));
  w.set(key("rope.scaling.yarn_log_multiplier"), f32(0.1 * c.rope.mscale_all_dim));
  if (c.rope.scaling != RopeScaling::Yarn) return;
  w.set(key("rope.scaling.original_context_length"), u32(c.rope.original_max_position));
  w.set(key("rope.scaling.yarn_beta_fast"), f32(c.rope.beta_fast));
  w.set(key("rope.scaling.yarn_beta_slow"), f32(c.rope.beta_slow));
}

namespace {

GgufTensorPlan whole(std::string gguf, const std::string& hf, std::vector<std::int64_t> shape) {
  const std::int64_t rows = shape.size() == 1 ? 1 : shape[0];
  return {std::move(gguf), std::move(shape), {{hf, 0, rows}}};
}

// E experts stacked into [E, rows, cols]: expert e is rows [e*rows, (e+1)*rows).
GgufTensorPlan stacked(const std::string& gguf, const std::string& hf_prefix, const std::string& proj,
                       std::int64_t n, std::int64_t rows, std::int64_t cols) {
  GgufTensorPlan t{gguf, {n, rows, cols}, {}};
  for (std::int64_t e = 0; e < n; ++e)
    t.parts.push_back({hf_prefix + std::to_string(e) + "." + proj + ".weight", e * rows, rows});
  return t;
}

void plan_attention(const Config& c, GgufLayout layout, const std::string& b, const std::string& a,
                    std::vector<GgufTensorPlan>& t) {
  const std::int64_t H = c.hidden_size, nh = c.num_heads, r = c.kv_lora_rank;
  if (c.q_lora_rank > 0) {
    t.push_back(whole(b + "attn_q_a.weight", a + "q_a_proj.weight", {c.q_lora_rank, H}));
    t.push_back(whole(b + "attn_q_a_norm.weight", a + "q_a_layernorm.weight", {c.q_lora_rank}));
    t.push_back(whole(b + "attn_q_b.weight", a + "q_b_proj.weight", {nh * c.qk_head_dim(), c.q_lora_rank}));
  } else {
    t.push_back(whole(b + "attn_q.weight", a + "q_proj.weight", {nh * c.qk_head_dim(), H}));
  }
  t.push_back(whole(b + "attn_kv_a_mqa.weight", a + "kv_a_proj_with_mqa.weight", {r + c.qk_rope_head_dim, H}));
  t.push_back(whole(b + "attn_kv_a_norm.weight", a + "kv_a_layernorm.weight", {r}));
  if (layout == GgufLayout::Legacy) {
    t.push_back(whole(b + "attn_kv_b.weight", a + "kv_b_proj.weight", {nh * (c.qk_nope_head_dim + c.v_head_dim), r}));
  } else {
    t.push_back({b + "attn_k_b.weight", {nh, r, c.qk_nope_head_dim}, {{a + "k_b_proj.weight", 0, nh * r}}});
    t.push_back({b + "attn_v_b.weight", {nh, c.v_head_dim, r}, {{a + "v_b_proj.weight", 0, nh * c.v_head_dim}}});
  }
  t.push_back(whole(b + "attn_output.weight", a + "o_proj.weight", {H, nh * c.v_head_dim}));
}

void plan_ffn(const Config& c, std::int64_t i, const std::string& b, const std::string& m,
              std::vector<GgufTensorPlan>& t) {
  const std::int64_t H = c.hidden_size;
  auto mlp = [&](const std::string& suffix, const std::string& prefix, std::int64_t width) {
    t.push_back(whole(b + "ffn_gate" + suffix + ".weight", prefix + "gate_proj.weight", {width, H}));
    t.push_back(whole(b + "ffn_up" + suffix + ".weight", prefix + "up_proj.weight", {width, H}));
    t.push_back(whole(b + "ffn_down" + suffix + ".weight", prefix + "down_proj.weight", {H, width}));
  };
  if (!c.is_moe_layer(i)) return mlp("", m, c.intermediate_size);
  t.push_back(whole(b + "ffn_gate_inp.weight", m + "gate.weight", {c.n_routed_experts, H}));
  const std::int64_t E = c.n_routed_experts, Im = c.moe_intermediate_size;
  t.push_back(stacked(b + "ffn_gate_exps.weight", m + "experts.", "gate_proj", E, Im, H));
  t.push_back(stacked(b + "ffn_up_exps.weight", m + "experts.", "up_proj", E, Im, H));
  t.push_back(stacked(b + "ffn_down_exps.weight", m + "experts.", "down_proj", E, H, Im));
  if (c.n_shared_experts > 0) mlp("_shexp", m + "shared_experts.", Im * c.n_shared_experts);
}

}  // namespace

std::vector<GgufTensorPlan> gguf_tensor_plan(const Config& c, GgufLayout layout) {
  std::vector<GgufTensorPlan> t;
  t.push_back(whole("token_embd.weight", "model.embed_tokens.weight", {c.vocab_size, c.hidden_size}));
  for (std::int64_t i = 0; i < c.num_layers; ++i) {
    const std::string b = "blk." + std::to_string(i) + ".", p = "model.layers." + std::to_string(i) + ".";
    t.push_back(whole(b + "attn_norm.weight", p + "input_layernorm.weight", {c.hidden_size}));
    plan_attention(c, layout, b, p + "self_attn.", t);
    t.push_back(whole(b + "ffn_norm.weight", p + "post_attention_layernorm.weight", {c.hidden_size}));
    plan_ffn(c, i, b, p + "mlp.", t);
  }
  t.push_back(whole("output_norm.weight", "model.norm.weight", {c.hidden_size}));
  if (!c.tie_word_embeddings)
    t.push_back(whole("output.weight", "lm_head.weight", {c.vocab_size, c.hidden_size}));
  return t;
}

}  // namespace dsv2
