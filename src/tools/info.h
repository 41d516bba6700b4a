// `dsv2 info`: what a model directory holds, from config.json alone (no weights are read), so it
// answers instantly even for a 472 GB checkpoint.
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

// The report `dsv2 info -m DIR` prints: architecture, parameter counts, KV cache per token and
// the safetensors files. Throws Error for a missing directory or a bad config.json.
std::string model_info(const std::string& dir);

}  // namespace dsv2::tools
