// The DeepSeek-V2 decoder (reference doc §2): embed, then per layer
//   h += MLA(RMSNorm_in(h));  h += FFN(RMSNorm_post(h))   (FFN = dense MLP or DeepSeekMoE)
// then logits = RMSNorm_final(h) · lm_headᵀ. Everything is float32 compute over weights of any dtype.
#pragma once
#include <atomic>
#include <memory>
#include <span>
#include <vector>

#include "kernels/thread_pool.h"
#include "model/batch.h"
#include "model/checkpoint.h"
#include "model/kv_cache.h"
#include "model/mla.h"
#include "model/moe.h"
#include "model/weights.h"
#include "model/yarn.h"

namespace dsv2 {

class DeepseekV2 {
 public:
  // n_threads <= 0: all cores. kv_type: element type of the caches new_cache makes (f32, bf16, q8_0).
  // expand_prompts: prompt rows (BatchRow::prompt) attend in the expanded form (mla_expanded.h):
  // long prompts process faster, keeping up to ExpandedRows::kBytes in all while prompts run,
  // with results that differ from the absorbed form's by float rounding.
  // When the checkpoint's weights are private (loaded, not mapped), Q4_0 / Q8_0 matrices are
  // rewritten in place into the kernels' interleaved layout: the checkpoint is then only the
  // owner of the bytes, which weights() describes.
  DeepseekV2(std::unique_ptr<Checkpoint> checkpoint, int n_threads, DType kv_type = DType::F32,
             bool expand_prompts = false);

  const Config& config() const { return ck_->config(); }
  // The weights as the kernels read them (not the checkpoint's tensors: see the constructor).
  const ModelWeights& weights() const { return w_; }
  ThreadPool& pool() { return pool_; }

  DType kv_type() const { return kv_type_; }
  bool expand_prompts() const { return expand_prompts_; }
  // A cache for one sequence with room for ctx tokens (0: the model's max positions).
  KvCache new_cache(std::int64_t ctx) const;

  // One step over `rows`; writes [n, vocab] logits for the rows with want_logits, in row order.
  // Rows of a sequence must continue its cache in order. Bad tokens/positions throw Error.
  void forward(std::span<const BatchRow> rows, float* logits);

  // Routed experts whose weights forward() has read so far: per MoE layer and step, the distinct
  // experts the step's rows chose (thread-safe to read while another thread runs forward).
  std::int64_t routed_experts_read() const { return routed_experts_read_.load(std::memory_order_relaxed); }

 private:
  void validate(std::span<const BatchRow> rows);
  void embed(std::span<const BatchRow> rows, float* x) const;
  std::int64_t layer(std::int64_t i, std::span<const BatchRow> rows, float* x);  // routed experts used
  void output(std::span<const BatchRow> rows, const float* x, float* logits);

  std::unique_ptr<Checkpoint> ck_;
  ModelWeights w_;
  Rope rope_;
  ThreadPool pool_;
  DType kv_type_;
  bool expand_prompts_;
  // Scratch reused across steps (grown on demand, never shrunk).
  std::vector<float> x_, xn_, y_, final_;
  MlaScratch mla_;
  MlpScratch mlp_;
  MoeScratch moe_;
  std::vector<std::pair<const KvCache*, std::int64_t>> next_pos_;
  std::atomic<std::int64_t> routed_experts_read_{0};
};

}  // namespace dsv2
