#include "model/kv_cache.h"

#include "util/error.h"

namespace dsv2 {

KvCache::KvCache(const Config& c, std::int64_t capacity)
    : layers_(c.num_layers), latent_(c.kv_lora_rank), width_(c.kv_cache_width()), capacity_(capacity) {
  check(capacity > 0, "context length must be positive, got " + std::to_string(capacity));
  data_.resize(static_cast<std::size_t>(layers_ * capacity_ * width_));
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
}

}  // namespace dsv2
