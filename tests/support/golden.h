// The golden fixtures in shared/fixtures: each has model/, golden.json and logits.f32.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace dsv2::test {

struct Golden {
  std::string dir, model_dir, prompt_text;
  std::vector<std::int32_t> input_ids, greedy_prompt, greedy_continuation;
  std::int64_t positions = 0, vocab = 0;
  std::vector<float> logits;  // [positions, vocab]
};

// name: "lite-tiny", "v2-tiny", "text-bf16" (under golden/) or "tiny-coder" (under models/).
Golden load_golden(const std::string& name);

// A fixture name usable in a gtest parameter name, which allows no '-': "lite-tiny" -> "lite_tiny".
std::string param_name(std::string fixture);

// Max |a - b| over row `row` of [*, vocab] logit arrays.
float max_row_diff(const float* a, const float* b, std::int64_t vocab);

}  // namespace dsv2::test
