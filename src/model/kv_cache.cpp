#include "model/kv_cache.h"

#include <algorithm>

#include "kernels/matmul.h"
#include "util/error.h"

namespace dsv2 {

DType kv_cache_type_from_name(const std::string& name, const std::string& what) {
  DType t{};
  if (dtype_from_name(name, &t) && (t == DType::F32 || t == DType::BF16 || t == DType::Q8_0)) return t;
  throw Error(what + ": unknown KV cache type '" + name + "' (expected f32, bf16 or q8_0)");
}

KvCache::KvCache(const Config& c, std::int64_t capacity, DType type)
    : type_(type), layers_(c.num_layers), latent_(c.kv_lora_rank), width_(c.kv_cache_width()), capacity_(capacity),
      heads_(c.num_heads), expanded_width_(c.qk_head_dim() + c.v_head_dim),
      expanded_filled_(static_cast<std::size_t>(c.num_layers), 0) {
  check(capacity > 0, "context length must be positive, got " + std::to_string(capacity));
  check(type == DType::F32 || type == DType::BF16 || type == DType::Q8_0,
        "KV cache type must be f32, bf16 or q8_0, got " + std::string(dtype_name(type)));
  const std::int64_t block = dtype_info(type).block_size;
  stored_ = (width_ + block - 1) / block * block;
  row_bytes_ = row_bytes(type, stored_);
  data_.resize(static_cast<std::size_t>(layers_ * capacity_) * row_bytes_);
  padded_.assign(static_cast<std::size_t>(stored_), 0.0f);
  const auto per_position = static_cast<std::size_t>(layers_ * heads_ * expanded_width_) * sizeof(float);
  expanded_cap_ = std::min(capacity_, static_cast<std::int64_t>(kExpandedBytes / per_position));
}

float* KvCache::expanded_rows(std::int64_t layer, std::int64_t head) {
  const auto per_head = static_cast<std::size_t>(expanded_cap_ * expanded_width_);
  if (expanded_.empty()) expanded_.resize(static_cast<std::size_t>(layers_ * heads_) * per_head);
  return expanded_.data() + static_cast<std::size_t>(layer * heads_ + head) * per_head;
}

void KvCache::limit_expanded(std::int64_t positions) {
  check(expanded_.empty(), "KV cache: the expanded rows' capacity is fixed once they are in use");
  expanded_cap_ = std::clamp<std::int64_t>(positions, 0, expanded_cap_);
}

void KvCache::release_expanded() {
  if (expanded_.empty()) return;
  std::vector<float>().swap(expanded_);
  std::fill(expanded_filled_.begin(), expanded_filled_.end(), 0);
}

void KvCache::store(std::int64_t layer, std::int64_t pos, const float* row) {
  std::copy(row, row + width_, padded_.begin());
  quantize_rows(type_, padded_.data(), 1, stored_, data_.data() + offset(layer, pos));
}

void KvCache::view(std::int64_t layer, std::int64_t n, Tensor& out) const {
  out.dtype = type_;
  out.shape.resize(2);
  out.shape[0] = n;
  out.shape[1] = stored_;
  out.data = data_.data() + offset(layer, 0);
}

void KvCache::reserve_append(std::int64_t pos, std::int64_t count) const {
  if (pos != size_) throw Error("KV cache: tokens must be appended at position " + std::to_string(size_) +
                          ", got position " + std::to_string(pos));
  if (pos + count > capacity_)
    throw Error("context length exceeded: " + std::to_string(pos + count) + " tokens do not fit in the context of " +
            std::to_string(capacity_) + " (raise --ctx)");
}

void KvCache::truncate(std::int64_t n) {
  if (n < size_) size_ = n < 0 ? 0 : n;
  for (std::int64_t& f : expanded_filled_) f = std::min(f, size_);
}

}  // namespace dsv2
