#include "support/checkpoint_writer.h"

#include "support/fixtures.h"
#include "tensor/dtype.h"

namespace dsv2::test {

std::vector<TestTensor> checkpoint_tensors(const Config& c) {
  std::vector<TestTensor> out;
  for (const TensorSpec& s : expected_tensors(c)) out.push_back({s.name, "F32", s.shape});
  return out;
}

void write_safetensors(const std::string& path, const std::vector<TestTensor>& tensors) {
  nlohmann::json header = nlohmann::json::object();
  std::string data;
  for (const TestTensor& t : tensors) {
    std::int64_t n = 1;
    for (std::int64_t d : t.shape) n *= d;
    const std::size_t begin = data.size();
    for (std::int64_t i = 0; i < n; ++i) {
      const float v = 0.01f * static_cast<float>((i * 7919) % 200 - 100);
      if (t.dtype == "F32") data.append(reinterpret_cast<const char*>(&v), 4);
      else {
        std::uint16_t h = t.dtype == "BF16" ? f32_to_bf16(v) : f32_to_f16(v);
        data.append(reinterpret_cast<const char*>(&h), 2);
      }
    }
    header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {begin, data.size()}}};
  }
  std::string h = header.dump();
  while ((h.size() + 8) % 8 != 0) h += ' ';
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((h.size() >> (8 * i)) & 0xff);
  write_file(path, out + h + data);
}

nlohmann::json micro_config_json() {
  return {
      {"vocab_size", 64}, {"hidden_size", 32}, {"intermediate_size", 48},
      {"moe_intermediate_size", 16}, {"num_hidden_layers", 2}, {"num_attention_heads", 2},
      {"n_shared_experts", 1}, {"n_routed_experts", 4}, {"num_experts_per_tok", 2},
      {"topk_method", "greedy"}, {"first_k_dense_replace", 1}, {"kv_lora_rank", 16},
      {"q_lora_rank", nullptr}, {"qk_nope_head_dim", 8}, {"qk_rope_head_dim", 4},
      {"v_head_dim", 8}, {"max_position_embeddings", 128},
  };
}

}  // namespace dsv2::test
