// The compressed MLA KV cache of one sequence: per layer and token it keeps only the normalised
// latent c (kv_lora_rank values) and the roped shared rope key (qk_rope_head_dim values) —
// 576 numbers per token per layer for the real models, instead of nh * (dq + dv).
// Elements are f32 (exact), bf16 or q8_0 (blocks of 32 with an f16 scale: 3.8x smaller than f32).
// Rows are padded with zeros to a whole number of blocks, which leaves every dot product with
// a zero-padded query unchanged.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/config.h"
#include "tensor/tensor.h"

namespace dsv2 {

// "f32" | "bf16" | "q8_0" as a DType; anything else throws Error naming `what` (a flag, a field).
DType kv_cache_type_from_name(const std::string& name, const std::string& what);

// The expanded form's keys and values (mla_expanded.h) of one sequence: per layer and head, rows
// of `width` floats (the key, qk_head_dim, then the value, v_head_dim) for positions [0, kept()).
// A prompt chunk's attention fills them and later chunks reuse them; rows [0, filled(layer)) are
// valid. They are a pure function of the cached latent rows, so positions past kept() are
// recomputed per chunk with the same values: how many are kept changes speed, never a result.
// All stores of the process together keep at most budget() bytes (kBytes unless a test lowers it),
// so parallel prompts cannot take more memory than one; memory is touched only as rows are
// filled. release() gives the share back (the model calls it when the sequence generates).
class ExpandedRows {
 public:
  static constexpr std::size_t kBytes = std::size_t{2} << 30;
  static void set_budget(std::size_t bytes);
  static std::size_t budget();

  ExpandedRows() = default;
  ExpandedRows(std::int64_t layers, std::int64_t heads, std::int64_t width, std::int64_t capacity);
  ExpandedRows(ExpandedRows&& o) noexcept;
  ExpandedRows& operator=(ExpandedRows&& o) noexcept;
  ~ExpandedRows() { release(); }

  // Keeps rows for up to `positions` positions as far as the budget allows; returns kept().
  std::int64_t keep(std::int64_t positions);
  std::int64_t kept() const { return kept_; }
  std::int64_t width() const { return width_; }
  float* rows(std::int64_t layer, std::int64_t head);  // kept() > 0
  std::int64_t filled(std::int64_t layer) const { return filled_[static_cast<std::size_t>(layer)]; }
  void set_filled(std::int64_t layer, std::int64_t n) { filled_[static_cast<std::size_t>(layer)] = n; }
  void truncate(std::int64_t n);  // rows from position n on are no longer valid
  void release();

 private:
  std::size_t position_bytes() const { return static_cast<std::size_t>(layers_ * heads_ * width_) * sizeof(float); }
  std::int64_t layers_ = 0, heads_ = 0, width_ = 0, max_ = 0, kept_ = 0;
  std::unique_ptr<float[]> data_;  // [layer][head][max_][width], allocated when first kept
  std::vector<std::int64_t> filled_;
};

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

  // The sequence's expanded keys and values (prompt rows in the expanded form).
  ExpandedRows& expanded() { return expanded_; }
  const ExpandedRows& expanded() const { return expanded_; }

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
  ExpandedRows expanded_;
};

}  // namespace dsv2
