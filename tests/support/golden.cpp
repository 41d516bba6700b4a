#include "support/golden.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "support/fixtures.h"

namespace dsv2::test {

Golden load_golden(const std::string& name) {
  Golden g;
  g.dir = fixture(name == "tiny-coder" ? "models/tiny-coder" : "golden/" + name);
  g.model_dir = g.dir + "/model";
  auto j = nlohmann::json::parse(read_file(g.dir + "/golden.json"));
  g.input_ids = j["input_ids"].get<std::vector<std::int32_t>>();
  g.positions = j["logits_shape"][0].get<std::int64_t>();
  g.vocab = j["logits_shape"][1].get<std::int64_t>();
  g.greedy_prompt = j["greedy"]["prompt_ids"].get<std::vector<std::int32_t>>();
  g.greedy_continuation = j["greedy"]["continuation_ids"].get<std::vector<std::int32_t>>();
  if (j.contains("prompt_text")) g.prompt_text = j["prompt_text"].get<std::string>();
  g.logits = read_f32_file(g.dir + "/" + j["logits_file"].get<std::string>());
  return g;
}

std::string param_name(std::string fixture) {
  for (char& c : fixture) if (c == '-') c = '_';
  return fixture;
}

float max_row_diff(const float* a, const float* b, std::int64_t vocab) {
  float m = 0.0f;
  for (std::int64_t i = 0; i < vocab; ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

}  // namespace dsv2::test
