// Teacher-forced evaluation: logits for every position of a token sequence.
#pragma once
#include <cstdint>
#include <vector>

namespace dsv2 {

class DeepseekV2;

// [ids.size(), vocab] logits, feeding `chunk` tokens per forward step through a fresh KV cache
// (chunk <= 0: all at once). The cache holds exactly ids.size() tokens.
std::vector<float> sequence_logits(DeepseekV2& model, const std::vector<std::int32_t>& ids,
                                   std::int64_t chunk);

// Greedy continuation of `prompt` for n tokens (argmax, lowest id on ties).
std::vector<std::int32_t> greedy_continuation(DeepseekV2& model, const std::vector<std::int32_t>& prompt,
                                              std::int64_t n);

}  // namespace dsv2
