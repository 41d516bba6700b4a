// Multi-head latent attention (reference doc §3) over the compressed cache, in the absorbed
// form: scores use q_c = W_UK,hᵀ q_nope against the cached latent c, and the output is
// o_h = W_UV,h · Σ_t p_t c_t. Only c and the roped rope key are ever cached. On request, prompt
// rows (BatchRow::prompt) attend in the expanded form instead (mla_expanded.h), which needs a
// third of the multiply-adds once the keys are expanded: prompt processing over long contexts.
#pragma once
#include <span>
#include <vector>

#include "model/batch.h"
#include "model/config.h"
#include "model/mla_expanded.h"
#include "model/weights.h"
#include "model/yarn.h"

namespace dsv2 {

class ThreadPool;

struct MlaScratch {
  std::vector<float> q, q_a, kv_a, kv_row, cos, sin, q_nope_h, q_lat, q_full, ctx, o_h, o, scores;
  std::vector<std::uint8_t> head_xq;  // per head: its activations in the weight's input format
  std::vector<Tensor> cache_views;    // per batch row: its cache as a matrix (attention)
  std::vector<std::int64_t> units, unit_of;  // attention: rows scored together (mla.cpp)
  std::vector<std::vector<float>> row_pieces; // attention, per thread: cached rows as floats
  StepReads uv_reads;                        // the W_UV heads, prefetched while threads wait
  std::vector<float> latent;                  // expanded form: a non-f32 cache's rows as floats
  std::vector<ExpandScratch> expand;          // expanded form, per thread
};

// out[T, H] = attention over xn[T, H] (already normed) for `rows`; appends each row's latent and
// rope key to its cache at `layer` first, so rows of one sequence see each other causally.
// expand_prompts: prompt rows take the expanded form. `next`: what the caller's next step reads
// (ThreadPool::parallel_for).
void mla_attention(const MlaWeights& w, const Config& c, const Rope& rope, std::int64_t layer,
                   std::span<const BatchRow> rows, bool expand_prompts, const float* xn, float* out, MlaScratch& s,
                   ThreadPool& pool, std::span<const NextRead> next = {});

// What mla_attention's first step reads (the query and latent projections).
StepReads mla_first_reads(const MlaWeights& w, const Config& c);

}  // namespace dsv2
