#include "model/kv_cache.h"

#include <algorithm>
#include <atomic>
#include <utility>

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
      expanded_(c.num_layers, c.num_heads, c.qk_head_dim() + c.v_head_dim, capacity) {
  check(capacity > 0, "context length must be positive, got " + std::to_string(capacity));
  check(type == DType::F32 || type == DType::BF16 || type == DType::Q8_0,
        "KV cache type must be f32, bf16 or q8_0, got " + std::string(dtype_name(type)));
  const std::int64_t block = dtype_info(type).block_size;
  stored_ = (width_ + block - 1) / block * block;
  row_bytes_ = row_bytes(type, stored_);
  data_.resize(static_cast<std::size_t>(layers_ * capacity_) * row_bytes_);
  padded_.assign(static_cast<std::size_t>(stored_), 0.0f);
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
  expanded_.truncate(size_);
}

namespace {
std::atomic<std::size_t> g_expanded_budget{ExpandedRows::kBytes};
std::atomic<std::size_t> g_expanded_used{0};
}  // namespace

void ExpandedRows::set_budget(std::size_t bytes) { g_expanded_budget = bytes; }
std::size_t ExpandedRows::budget() { return g_expanded_budget; }

ExpandedRows::ExpandedRows(std::int64_t layers, std::int64_t heads, std::int64_t width, std::int64_t capacity)
    : layers_(layers), heads_(heads), width_(width), filled_(static_cast<std::size_t>(layers), 0) {
  max_ = std::min(capacity, static_cast<std::int64_t>(kBytes / position_bytes()));
}

ExpandedRows::ExpandedRows(ExpandedRows&& o) noexcept
    : layers_(o.layers_), heads_(o.heads_), width_(o.width_), max_(o.max_), kept_(std::exchange(o.kept_, 0)),
      data_(std::move(o.data_)), filled_(std::move(o.filled_)) {}

ExpandedRows& ExpandedRows::operator=(ExpandedRows&& o) noexcept {
  if (this != &o) {
    release();
    layers_ = o.layers_, heads_ = o.heads_, width_ = o.width_, max_ = o.max_;
    kept_ = std::exchange(o.kept_, 0);
    data_ = std::move(o.data_);
    filled_ = std::move(o.filled_);
  }
  return *this;
}

std::int64_t ExpandedRows::keep(std::int64_t positions) {
  const std::int64_t want = std::min(positions, max_) - kept_;
  if (want <= 0) return kept_;
  const std::size_t pp = position_bytes();
  std::size_t used = g_expanded_used.load();
  std::int64_t grant = 0;
  do {  // take what the budget has left, in whole positions
    const std::size_t budget = g_expanded_budget.load(), left = budget > used ? budget - used : 0;
    grant = std::min(want, static_cast<std::int64_t>(left / pp));
  } while (grant > 0 && !g_expanded_used.compare_exchange_weak(used, used + static_cast<std::size_t>(grant) * pp));
  if (grant <= 0) return kept_;
  // Not zero-filled: only the rows written are ever touched, so memory grows as they are filled.
  if (!data_) data_ = std::make_unique_for_overwrite<float[]>(static_cast<std::size_t>(layers_ * heads_ * max_ * width_));
  kept_ += grant;
  return kept_;
}

float* ExpandedRows::rows(std::int64_t layer, std::int64_t head) {
  return data_.get() + static_cast<std::size_t>((layer * heads_ + head) * max_ * width_);
}

void ExpandedRows::truncate(std::int64_t n) {
  for (std::int64_t& f : filled_) f = std::min(f, n);
}

void ExpandedRows::release() {
  if (kept_ > 0) g_expanded_used -= static_cast<std::size_t>(kept_) * position_bytes();
  kept_ = 0;
  data_.reset();
  std::fill(filled_.begin(), filled_.end(), 0);
}

}  // namespace dsv2
