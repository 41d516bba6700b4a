// The compressed MLA KV cache of one sequence: per layer and token it keeps only the normalised
// latent c (kv_lora_rank values) and the roped shared rope key (qk_rope_head_dim values) —
// 576 numbers per token per layer for the real models, instead of nh * (dq + dv).
#pragma once
#include <cstdint>
#include <vector>

#include "model/config.h"

namespace dsv2 {

class KvCache {
 public:
  // Room for `capacity` tokens (the context limit); allocated here, never for the model's full
  // max_position_embeddings unless asked.
  KvCache(const Config& c, std::int64_t capacity);

  std::int64_t size() const { return size_; }          // tokens cached
  std::int64_t capacity() const { return capacity_; }
  std::int64_t width() const { return width_; }        // kv_lora_rank + qk_rope_head_dim
  std::int64_t latent_dim() const { return latent_; }  // kv_lora_rank
  std::size_t bytes_per_token() const { return static_cast<std::size_t>(layers_ * width_) * sizeof(float); }
  std::size_t bytes_allocated() const { return data_.size() * sizeof(float); }

  // Row of token `pos` in `layer`: [latent | rope key].
  float* row(std::int64_t layer, std::int64_t pos) { return &data_[index(layer, pos)]; }
  const float* row(std::int64_t layer, std::int64_t pos) const { return &data_[index(layer, pos)]; }

  // Checks that `count` more tokens fit at position `pos` (== size()); throws Error otherwise.
  void reserve_append(std::int64_t pos, std::int64_t count) const;
  void set_size(std::int64_t n) { size_ = n; }
  // Forgets tokens from position n on (prefix reuse, regenerating).
  void truncate(std::int64_t n);

 private:
  std::size_t index(std::int64_t layer, std::int64_t pos) const {
    return static_cast<std::size_t>((layer * capacity_ + pos) * width_);
  }
  std::int64_t layers_, latent_, width_, capacity_;
  std::int64_t size_ = 0;
  std::vector<float> data_;
};

}  // namespace dsv2
