// The compressed MLA KV cache of one sequence: per layer and token it keeps only the normalised
// latent c (kv_lora_rank values) and the roped shared rope key (qk_rope_head_dim values) —
// 576 numbers per token per layer for the real models, instead of nh * (dq + dv).
// Elements are f32 (exact), bf16 or q8_0 (blocks of 32 with an f16 scale: 3.8x smaller than f32).
// Rows are padded with zeros to a whole number of blocks, which leaves every dot product with
// a zero-padded query unchanged.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/config.h"
#include "tensor/tensor.h"

namespace dsv2 {

// "f32" | "bf16" | "q8_0" as a DType; anything else throws Error naming `what` (a flag, a field).
DType kv_cache_type_from_name(const std::string& name, const std::string& what);

class KvCache {
 public:
  // Room for `capacity` tokens (the context limit); allocated here, never for the model's full
  // max_position_embeddings unless asked.
  KvCache(const Config& c, std::int64_t capacity, DType type = DType::F32);

  std::int64_t size() const { return size_; }          // tokens cached
  std::int64_t capacity() const { return capacity_; }
  DType type() const { return type_; }
  std::int64_t width() const { return width_; }        // kv_lora_rank + qk_rope_head_dim
  std::int64_t stored_width() const { return stored_; }  // width rounded up to whole blocks
  std::int64_t latent_dim() const { return latent_; }  // kv_lora_rank
  std::size_t bytes_per_token() const { return static_cast<std::size_t>(layers_) * row_bytes_; }
  std::size_t bytes_allocated() const { return data_.size(); }

  // Stores token `pos` of `layer` from width() floats [latent | rope key], converted to type().
  void store(std::int64_t layer, std::int64_t pos, const float* row);
  // Tokens [0, n) of `layer` as a [n, stored_width()] tensor of type() (row-major, contiguous),
  // written into `out` reusing its shape's storage (decode steps must not allocate).
  void view(std::int64_t layer, std::int64_t n, Tensor& out) const;

  // Checks that `count` more tokens fit at position `pos` (== size()); throws Error otherwise.
  void reserve_append(std::int64_t pos, std::int64_t count) const;
  void set_size(std::int64_t n) { size_ = n; }
  // Forgets tokens from position n on (prefix reuse, regenerating).
  void truncate(std::int64_t n);

  // The expanded form's keys and values (mla_expanded.h) of positions [0, expanded_capacity()):
  // per layer and head, rows of expanded_width() floats, the key (qk_head_dim) then the value
  // (v_head_dim). A prompt chunk's attention fills them and later chunks reuse them; rows
  // [0, expanded_filled(layer)) are valid. They are a pure function of the cached latent rows, so
  // positions past the capacity are recomputed per chunk, with the same values. The memory
  // (at most kExpandedBytes) is allocated on first use and given back by release_expanded().
  static constexpr std::size_t kExpandedBytes = std::size_t{2} << 30;
  std::int64_t expanded_capacity() const { return expanded_cap_; }
  void limit_expanded(std::int64_t positions);  // fewer kept positions (before first use; tests)
  std::int64_t expanded_width() const { return expanded_width_; }
  float* expanded_rows(std::int64_t layer, std::int64_t head);  // allocates on first use
  std::int64_t expanded_filled(std::int64_t layer) const { return expanded_filled_[static_cast<std::size_t>(layer)]; }
  void set_expanded_filled(std::int64_t layer, std::int64_t n) { expanded_filled_[static_cast<std::size_t>(layer)] = n; }
  void release_expanded();

 private:
  std::size_t offset(std::int64_t layer, std::int64_t pos) const {
    return static_cast<std::size_t>(layer * capacity_ + pos) * row_bytes_;
  }
  DType type_;
  std::int64_t layers_, latent_, width_, stored_, capacity_;
  std::size_t row_bytes_;
  std::int64_t size_ = 0;
  std::vector<std::uint8_t> data_;
  std::vector<float> padded_;  // store()'s zero-padded row (no allocation per token)
  std::int64_t heads_, expanded_width_, expanded_cap_;
  std::vector<float> expanded_;
  std::vector<std::int64_t> expanded_filled_;  // per layer
};

}  // namespace dsv2
