// Writes small synthetic checkpoints for loader tests: config.json plus one safetensors file
// holding every tensor of expected_tensors(config), with optional edits to provoke errors.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/config.h"

namespace dsv2::test {

struct TestTensor {
  std::string name, dtype;  // "F32", "BF16", "F16"
  std::vector<std::int64_t> shape;
};

// The tensors of a checkpoint for `c`, all F32, to be edited before writing.
std::vector<TestTensor> checkpoint_tensors(const Config& c);
// Writes tensors (filled with small deterministic values) into one safetensors file.
void write_safetensors(const std::string& path, const std::vector<TestTensor>& tensors);
// A micro Lite-shaped config as JSON (2 layers, 4 experts).
nlohmann::json micro_config_json();

}  // namespace dsv2::test
