#include "model_flags.h"

#include "model/kv_cache.h"
#include "util/error.h"

namespace dsv2::app {

void ModelFlags::add_to(CLI::App* cmd, bool required) {
  auto* m = cmd->add_option("-m,--model", model, "Model: a Hugging Face checkpoint directory or a GGUF file");
  if (required) m->required();
  cmd->add_option("-t,--threads", threads, "Threads (default: all cores)");
  cmd->add_flag("--mmap", mmap,
                "Memory-map the weights instead of loading them (starts at once and shares the page "
                "cache, but decodes slower: 4 KiB pages cost TLB misses)");
  cmd->add_option("--cache-type", cache_type, "KV cache element type: f32, bf16 or q8_0")->capture_default_str();
  cmd->add_option("--prompt-attention", prompt_attention,
                  "Attention form of prompt tokens: absorbed, or expanded (keys and values expanded from "
                  "the latent cache: long prompts process 1.3-1.6x faster, using up to 2 GiB more memory "
                  "while prompts run; results differ by float rounding)")
      ->capture_default_str();
}

std::unique_ptr<Checkpoint> ModelFlags::open() const {
  return Checkpoint::open(model, mmap ? FileMode::Map : FileMode::Load);
}

DType ModelFlags::kv_type() const { return kv_cache_type_from_name(cache_type, "--cache-type"); }

bool ModelFlags::expand_prompts() const {
  if (prompt_attention != "absorbed" && prompt_attention != "expanded")
    throw Error("--prompt-attention: unknown form '" + prompt_attention + "' (expected absorbed or expanded)");
  return prompt_attention == "expanded";
}

}  // namespace dsv2::app
