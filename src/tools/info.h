// `dsv2 info`: what a model holds, from config.json or the GGUF header alone (no weights are
// read), so it answers instantly even for a 472 GB checkpoint.
#pragma once
#include <cstdint>
#include <string>

#include "model/config.h"

namespace dsv2::tools {

// Values cached per token, summed over layers. MLA caches the compressed latent plus the shared
// RoPE key (kv_lora_rank + qk_rope_head_dim per layer); plain multi-head attention would cache
// every head's key (dn + dr) and value (dv).
struct KvCachePerToken {
  std::int64_t mla_values = 0;
  std::int64_t mha_values = 0;
};
KvCachePerToken kv_cache_per_token(const Config& c);

// The report `dsv2 info -m MODEL` prints: architecture, parameter counts, KV cache per token and
// the safetensors files of a Hugging Face directory, or the weight types and size of a GGUF
// file. Throws Error for a missing path, a bad config.json or a malformed GGUF file.
std::string model_info(const std::string& path);

}  // namespace dsv2::tools
