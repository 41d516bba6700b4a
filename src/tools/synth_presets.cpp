// The synth presets. Everything not set here keeps Config's defaults (DeepSeek's config class).
#include "tools/synth.h"
#include "util/error.h"

namespace dsv2::tools {

namespace {

// What every released DeepSeek-V2 model shares: YaRN 40x over a 4K original context, softmax
// routing without renormalisation, a dense first layer, the 102400-row vocabulary.
Config deepseek_v2_family() {
  Config c;
  c.vocab_size = 102400;
  c.max_position_embeddings = 163840;
  c.rope.theta = 10000.0;
  c.rope.scaling = RopeScaling::Yarn;
  c.rope.factor = 40.0;
  c.rope.original_max_position = 4096;
  c.rope.beta_fast = 32.0;
  c.rope.beta_slow = 1.0;
  c.rope.mscale = 0.707;
  c.rope.mscale_all_dim = 0.707;
  c.first_k_dense_replace = 1;
  c.moe_layer_freq = 1;
  c.norm_topk_prob = false;
  c.n_shared_experts = 2;
  return c;
}

// Reference doc §6: V2-Lite, V2-Lite-Chat, Coder-V2-Lite-Base/Instruct.
Config lite() {
  Config c = deepseek_v2_family();
  c.hidden_size = 2048;
  c.num_layers = 27;
  c.num_heads = 16;
  c.qk_nope_head_dim = 128;
  c.qk_rope_head_dim = 64;
  c.v_head_dim = 128;
  c.kv_lora_rank = 512;
  c.q_lora_rank = 0;
  c.n_routed_experts = 64;
  c.num_experts_per_tok = 6;
  c.moe_intermediate_size = 1408;
  c.intermediate_size = 10944;
  c.topk_method = TopkMethod::Greedy;
  c.routed_scaling_factor = 1.0;
  return c;
}

// Lite's structure (no query LoRA, greedy top-4 of 16, dense first layer) shrunk until the
// checkpoint is dominated by the two 102400 x 64 vocabulary matrices (~27 MB in bf16).
Config tiny() {
  Config c = lite();
  c.hidden_size = 64;
  c.num_layers = 4;
  c.num_heads = 4;
  c.qk_nope_head_dim = 32;
  c.qk_rope_head_dim = 16;
  c.v_head_dim = 32;
  c.kv_lora_rank = 64;
  c.n_routed_experts = 16;
  c.num_experts_per_tok = 4;
  c.moe_intermediate_size = 32;
  c.intermediate_size = 192;
  return c;
}

// The 236B's structure: query LoRA, 16 experts in 4 groups of which 2 are kept, top-4, routed
// outputs scaled by 16. (The real model, 472 GB in bf16, would not fit anywhere useful.)
Config v2() {
  Config c = tiny();
  c.num_layers = 3;
  c.q_lora_rank = 48;
  c.kv_lora_rank = 48;
  c.qk_nope_head_dim = 24;
  c.qk_rope_head_dim = 8;
  c.v_head_dim = 16;
  c.topk_method = TopkMethod::GroupLimitedGreedy;
  c.n_group = 4;
  c.topk_group = 2;
  c.routed_scaling_factor = 16.0;
  return c;
}

}  // namespace

const std::vector<std::string>& synth_preset_names() {
  static const std::vector<std::string> names = {"tiny", "lite", "v2"};
  return names;
}

Config synth_preset(const std::string& name) {
  if (name == "tiny") return tiny();
  if (name == "lite") return lite();
  if (name == "v2") return v2();
  throw Error("unknown preset '" + name + "' (expected tiny, lite or v2)");
}

}  // namespace dsv2::tools
