// The model's own generation defaults (HF generation_config.json), which the CLI and server
// apply to whatever the user leaves unset. Without the file: greedy, stop at the tokenizer's EOS.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "generate/sampler.h"

namespace dsv2 {

struct GenerationConfig {
  std::vector<int32_t> eos_token_ids;  // generation ends at any of them; never empty
  std::optional<int32_t> bos_token_id;
  SamplingParams sampling;             // greedy unless the file says do_sample: true
  std::optional<int> max_new_tokens;   // HF gives this precedence over max_length
  std::optional<int> max_length;       // prompt + generated tokens
};

// Reads model_dir/generation_config.json if it exists. default_eos is the tokenizer's EOS id,
// used when the file is absent or names none. Throws dsv2::Error naming the file and field.
GenerationConfig load_generation_config(const std::string& model_dir, int32_t default_eos);

// The same from JSON text; origin names the source in error messages.
GenerationConfig parse_generation_config(std::string_view json_text, const std::string& origin,
                                         int32_t default_eos);

}  // namespace dsv2
