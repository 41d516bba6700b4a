// The model's weights as typed views, grouped the way the paper names them. Matrices stay in
// their stored dtype (the kernels dispatch on it); norm vectors and the absorbed MLA key matrix
// are kept as float32 copies because they are small and used on every token.
#pragma once
#include <array>
#include <memory>
#include <span>
#include <vector>

#include "kernels/thread_pool.h"
#include "model/checkpoint.h"
#include "tensor/tensor.h"

namespace dsv2 {

// The weights one parallel step reads, in its work units: the `next` hint of the step before
// it (ThreadPool::parallel_for), so threads that wait prefetch them.
struct StepReads {
  std::array<NextRead, ThreadPool::kMaxNextReads> r{};
  std::size_t n = 0;
  void add(const NextRead& read) {
    if (n < r.size()) r[n++] = read;
  }
  std::span<const NextRead> span() const { return {r.data(), n}; }
};

struct MlpWeights {
  Tensor gate, up, down;  // [I, H], [I, H], [H, I]
};

struct MlaWeights {
  Tensor q_proj;                      // [nh*dq, H] (no query LoRA)
  Tensor q_a_proj, q_b_proj;          // [r_q, H], [nh*dq, r_q] (query LoRA)
  std::vector<float> q_a_norm;
  Tensor kv_a_proj;                   // [r_kv + dr, H]
  std::vector<float> kv_a_norm;
  Tensor o_proj;                      // [H, nh*dv]
  // The absorbed form's per-head matrices, cut from kv_b_proj [nh*(dn+dv), r_kv]:
  // uk_t[h] = W_UK,hᵀ [r_kv, dn] gives the latent query q_c = W_UK,hᵀ q_nope;
  // uv[h] = W_UV,h [dv, r_kv] maps the attended latent to the head's output.
  std::vector<Tensor> uk_t, uv;
  // Checkpoints that store the absorbed form (GGUF's attn_k_b / attn_v_b) give uk_t directly as
  // views; only kv_b_proj needs the transposing copy that this owns (see uk_t_copy_type).
  std::vector<std::uint8_t> uk_t_storage;
};

struct MoeWeights {
  Tensor router;                      // [E, H]
  std::vector<MlpWeights> experts;    // E routed experts of width Im
  bool has_shared = false;
  MlpWeights shared;                  // width Im * n_shared
};

struct LayerWeights {
  std::vector<float> input_norm, post_norm;
  MlaWeights attn;
  bool is_moe = false;
  MlpWeights mlp;                     // dense layers
  MoeWeights moe;                     // MoE layers
};

struct ModelWeights {
  Tensor embed;                       // [V, H]
  std::vector<LayerWeights> layers;
  std::vector<float> final_norm;
  Tensor lm_head;                     // [V, H]
};

ModelWeights bind_weights(const Checkpoint& ck);

// Every matrix the matmuls read, once each: attention (incl. the absorbed W_UK / W_UV), routers,
// dense MLPs, every expert, lm_head (also when it is the embedding table). Absent ones (q_proj or
// the query LoRA pair) are left out.
std::vector<Tensor*> matmul_weights(ModelWeights& w);
std::vector<const Tensor*> matmul_weights(const ModelWeights& w);

// Rewrites every matrix the matmuls read (not the embedding table, which is read by rows) into
// the kernels' row-interleaved layout where its dtype has one (Q4_0, Q8_0: see
// interleave_in_place), in place. Only for weights in private, writable memory
// (Checkpoint::weights_private). Returns the bytes rewritten.
std::size_t interleave_matrices(ModelWeights& w, ThreadPool& pool);

// A legacy kv_b_proj keeps each head's W_UV rows after its W_UK rows, which only the load-time
// W_UK copy reads, so decode read a layer's W_UV as 16 pieces with gaps between (36 KB each for
// Lite Q4_0). This moves them together, in place, and re-points the uv views: each thread then
// streams its heads as one piece (Lite Q4_0, 27 layers' W_UV products, 2 threads: 788 -> 571 µs
// per token). Layers whose uv views are already contiguous (attn_v_b) are left alone. Private,
// writable weights only, after bind_weights made the W_UK copies. Returns the bytes moved.
std::size_t pack_value_heads(ModelWeights& w);

// A decode step reads each chosen expert's gate and up, then (the next step) its down, but GGUF
// stores all experts' gates in one tensor, all ups in another and all downs in a third, so a
// Lite step read eighteen scattered 1.6 MB pieces. This moves each MoE layer's expert blocks
// within the slots they already occupy (no memory added) so that expert e's gate, up and down
// lie back to back: a claim then streams gate and up as one region, and the down read next
// lies right after them. On a Zen 5 VM, Lite decode per token 2.7% (Q4_0) and 2.8% (Q8_0)
// faster than with the same bytes read scattered (in-process A/B, docs/benchmarks.md); the
// load moves ~8 GB for Lite Q4_0 (0.3 s on 2 cores). Where the down blocks differ in size from
// gate and up (K-quant mixes), only gate and up are paired. As many experts are grouped as the
// slots allow (all of them for three tensors of a multiple of three experts, or for adjacent
// tensors); layers already grouped, or whose gate and up differ in size, or whose blocks
// overlap, are left alone. Private, writable weights only (as pack_value_heads); layers run in
// parallel. Returns the bytes moved.
std::size_t group_expert_matrices(ModelWeights& w, ThreadPool& pool);

// The dtype of the transposed W_UK copy made from a kv_b_proj of dtype `source` (rows of dn
// values): as precise as the source, but no wider than it needs to be, since decoding reads it
// for every token (113 MB per token for Lite in f32). bf16 stays bf16 (exact); quantized types
// become q8_0 (for a q8_0 source that rounds twice: on tiny-coder's 143 golden positions KL
// against f32 9.30e-5 instead of 9.27e-5 with a bf16 copy, same top-1, while decoding reads half
// the bytes and the interleaved q8_0 kernel needs no horizontal sums over rows of dn = 128);
// f32/f16 stay f32.
DType uk_t_copy_type(DType source, std::int64_t dn);

}  // namespace dsv2
