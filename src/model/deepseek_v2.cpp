#include "model/deepseek_v2.h"

#include <algorithm>

#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "util/error.h"

namespace dsv2 {

DeepseekV2::DeepseekV2(std::unique_ptr<Checkpoint> checkpoint, int n_threads, DType kv_type, bool expand_prompts)
    : ck_(std::move(checkpoint)),
      w_(bind_weights(*ck_)),
      rope_(ck_->config().rope, ck_->config().qk_rope_head_dim),
      pool_(n_threads),
      kv_type_(kv_type),
      expand_prompts_(expand_prompts) {
  // Loaded (not mapped) weights are ours to rewrite: W_UV heads side by side, each expert's gate,
  // up and down back to back, every matrix into the kernels' interleaved layout.
  if (ck_->weights_private()) {
    ck_->set_weights_writable(true);
    pack_value_heads(w_);
    group_expert_matrices(w_, pool_);
    interleave_matrices(w_, pool_);
    ck_->set_weights_writable(false);
  }
}

KvCache DeepseekV2::new_cache(std::int64_t ctx) const {
  const std::int64_t max_pos = config().max_position_embeddings;
  check(ctx <= max_pos, "context length " + std::to_string(ctx) + " exceeds the model's " +
                            "max_position_embeddings " + std::to_string(max_pos));
  return KvCache(config(), ctx > 0 ? ctx : max_pos, kv_type_);
}

void DeepseekV2::validate(std::span<const BatchRow> rows) {
  check(!rows.empty(), "forward: empty batch");
  auto& next = next_pos_;  // per cache: next expected position (a member: decode must not allocate)
  next.clear();
  for (const BatchRow& r : rows) {
    if (r.token < 0 || r.token >= config().vocab_size)
      throw Error("token id " + std::to_string(r.token) + " is outside the vocabulary [0, " +
              std::to_string(config().vocab_size) + ")");  // built only on failure
    check(r.cache != nullptr, "forward: batch row without a KV cache");
    auto it = std::find_if(next.begin(), next.end(), [&](auto& p) { return p.first == r.cache; });
    if (it == next.end()) {
      r.cache->reserve_append(r.pos, 1);
      next.emplace_back(r.cache, r.pos + 1);
    } else {
      if (r.pos != it->second)
        throw Error("forward: positions of a sequence must be consecutive, got " + std::to_string(r.pos) +
                    " after " + std::to_string(it->second - 1));
      r.cache->reserve_append(r.cache->size(), r.pos - r.cache->size() + 1);
      ++it->second;
    }
  }
}

void DeepseekV2::embed(std::span<const BatchRow> rows, float* x) const {
  const std::int64_t H = config().hidden_size;
  for (std::size_t t = 0; t < rows.size(); ++t) dequantize_row(w_.embed, rows[t].token, x + t * H);
}

std::int64_t DeepseekV2::layer(std::int64_t i, std::span<const BatchRow> rows, float* x) {
  const Config& c = config();
  const LayerWeights& l = w_.layers[static_cast<std::size_t>(i)];
  const std::int64_t T = static_cast<std::int64_t>(rows.size()), H = c.hidden_size;
  const auto eps = static_cast<float>(c.rms_norm_eps);
  float* xn = grow(xn_, static_cast<std::size_t>(T * H));
  float* y = grow(y_, static_cast<std::size_t>(T * H));
  for (std::int64_t t = 0; t < T; ++t) rmsnorm(x + t * H, l.input_norm.data(), H, eps, xn + t * H);
  // Each block names what the next one reads first, for threads that wait to prefetch.
  const StepReads ffn_reads = l.is_moe ? moe_first_reads(l.moe) : mlp_first_reads(l.mlp);
  const StepReads after = i + 1 < c.num_layers ? mla_first_reads(w_.layers[static_cast<std::size_t>(i + 1)].attn, c)
                                               : StepReads{{matmul_reads(w_.lm_head)}, 1};
  mla_attention(l.attn, c, rope_, i, rows, expand_prompts_, xn, y, mla_, pool_, ffn_reads.span());
  for (std::int64_t k = 0; k < T * H; ++k) x[k] += y[k];
  for (std::int64_t t = 0; t < T; ++t) rmsnorm(x + t * H, l.post_norm.data(), H, eps, xn + t * H);
  std::int64_t experts = 0;
  if (l.is_moe) experts = moe_forward(l.moe, c, xn, T, y, moe_, pool_, after.span());
  else mlp_forward(l.mlp, xn, T, y, mlp_, pool_, after.span());
  for (std::int64_t k = 0; k < T * H; ++k) x[k] += y[k];
  return experts;
}

void DeepseekV2::output(std::span<const BatchRow> rows, const float* x, float* logits) {
  const std::int64_t H = config().hidden_size;
  std::int64_t n = 0;
  float* fx = grow(final_, rows.size() * static_cast<std::size_t>(H));
  for (std::size_t t = 0; t < rows.size(); ++t) {
    if (!rows[t].want_logits) continue;
    rmsnorm(x + t * H, w_.final_norm.data(), H, static_cast<float>(config().rms_norm_eps), fx + n * H);
    ++n;
  }
  if (n > 0) matmul(w_.lm_head, fx, n, logits, &pool_, mla_first_reads(w_.layers[0].attn, config()).span());
}

void DeepseekV2::forward(std::span<const BatchRow> rows, float* logits) {
  validate(rows);
  for (const BatchRow& r : rows) {
    if (!r.prompt) r.cache->expanded().release();  // a generating sequence's prompt is done
    else if (expand_prompts_) r.cache->expanded().keep(r.pos + 1);  // what the budget allows
  }
  const std::int64_t T = static_cast<std::int64_t>(rows.size());
  float* x = grow(x_, static_cast<std::size_t>(T * config().hidden_size));
  embed(rows, x);
  std::int64_t experts = 0;
  for (std::int64_t i = 0; i < config().num_layers; ++i) experts += layer(i, rows, x);
  routed_experts_read_.fetch_add(experts, std::memory_order_relaxed);
  for (const BatchRow& r : rows) r.cache->set_size(std::max(r.cache->size(), r.pos + 1));
  output(rows, x, logits);
}

}  // namespace dsv2
