// Multi-head latent attention in the expanded (non-absorbed) form, for prompt rows: each head's
// keys k_j = [W_UK,h c_j | k_pe,j] and values v_j = W_UV,h c_j are expanded from the latent
// cache, and a query meets 192 + 128 numbers per cached token and head instead of the absorbed
// form's 576 + 512 (reference doc §3: both forms compute the same function). Expanding costs
// r * (dn + dv) multiply-adds per token and head, paid once: the expanded rows are kept in the
// sequence's KvCache (ExpandedRows: as many as the process budget allows, recomputed per chunk
// past that) while its prompt is processed, and given back when it starts generating.
//
// Every output is one fixed-order computation (the query-lane kernels: a cached token's key and
// value are the same numbers whether kept or recomputed), so a prompt row's result does not
// depend on its chunk, the other rows or the thread split. It differs from the absorbed form's
// by float rounding only.
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/thread_pool.h"
#include "model/kv_cache.h"
#include "model/weights.h"

namespace dsv2 {

struct MlaShape {
  std::int64_t nh, dn, dr, dv, r;  // heads, nope / rope / value head dims, latent rank
  std::int64_t dq() const { return dn + dr; }
};

// Per thread: one head's matrices as floats, rows expanded past the cache's capacity, and one
// block of queries and their scores.
struct ExpandScratch {
  std::vector<float> wk, wv, rows, qt, scores;
};

// Consecutive prompt rows of one sequence: positions p0 .. p0 + T - 1, already in its cache.
struct ExpandedChunk {
  KvCache* cache;
  std::int64_t layer, p0, T;
  const float* q;  // row t, head h: q[t * ldq + h * dq()], nope then roped rope part
  std::int64_t ldq;
  float* o;        // row t, head h: o[t * ldo + h * dv], written
  std::int64_t ldo;
};

// o = softmax(scale * q kᵀ, causal) v for every head of the chunk (one pool step over heads).
// `latent`: a non-f32 cache's rows as floats; `per_thread`: grown to the pool's size.
void attend_expanded(const MlaWeights& w, const MlaShape& d, float scale, const ExpandedChunk& c,
                     std::vector<float>& latent, std::vector<ExpandScratch>& per_thread, ThreadPool& pool);

}  // namespace dsv2
