#include "model/mla.h"

#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "kernels/thread_pool.h"
#include "model/kv_cache.h"

namespace dsv2 {

namespace {

constexpr float kLatentNormEps = 1e-6f;  // q_a_layernorm / kv_a_layernorm ignore rms_norm_eps

struct Dims {
  std::int64_t T, nh, dn, dr, dq, dv, r;
};

// q[T, nh*dq], with or without the query LoRA.
void project_query(const MlaWeights& w, const Config& c, const float* xn, std::int64_t T,
                   MlaScratch& s, ThreadPool& pool) {
  const std::int64_t nq = c.num_heads * c.qk_head_dim();
  float* q = grow(s.q, static_cast<std::size_t>(T * nq));
  if (c.q_lora_rank == 0) {
    matmul(w.q_proj, xn, T, q, &pool);
    return;
  }
  const std::int64_t rq = c.q_lora_rank;
  float* qa = grow(s.q_a, static_cast<std::size_t>(T * rq));
  matmul(w.q_a_proj, xn, T, qa, &pool);
  for (std::int64_t t = 0; t < T; ++t) rmsnorm(qa + t * rq, w.q_a_norm.data(), rq, kLatentNormEps, qa + t * rq);
  matmul(w.q_b_proj, qa, T, q, &pool);
}

// Latent + rope key for every row, written into the rows' caches; ropes q_pe in place.
void write_cache_and_rope(const MlaWeights& w, const Dims& d, const Rope& rope, std::int64_t layer,
                          std::span<const BatchRow> rows, const float* xn, MlaScratch& s,
                          ThreadPool& pool) {
  const std::int64_t wkv = d.r + d.dr, half = d.dr / 2;
  float* kva = grow(s.kv_a, static_cast<std::size_t>(d.T * wkv));
  matmul(w.kv_a_proj, xn, d.T, kva, &pool);
  float* cs = grow(s.cos, static_cast<std::size_t>(d.T * half));
  float* sn = grow(s.sin, static_cast<std::size_t>(d.T * half));
  for (std::int64_t t = 0; t < d.T; ++t) {
    rope.angles(rows[t].pos, cs + t * half, sn + t * half);
    float* dst = rows[t].cache->row(layer, rows[t].pos);
    rmsnorm(kva + t * wkv, w.kv_a_norm.data(), d.r, kLatentNormEps, dst);
    std::copy(kva + t * wkv + d.r, kva + (t + 1) * wkv, dst + d.r);
    rope_pairs(dst + d.r, cs + t * half, sn + t * half, d.dr);
    for (std::int64_t h = 0; h < d.nh; ++h)
      rope_pairs(s.q.data() + (t * d.nh + h) * d.dq + d.dn, cs + t * half, sn + t * half, d.dr);
  }
}

// q_lat[h, t, :] = W_UK,hᵀ q_nope[t, h, :] for every head (head-major). One parallel_for over
// heads, each head's small product on one thread: per-head pool calls cost more than the math.
void absorb_queries(const MlaWeights& w, const Dims& d, MlaScratch& s, ThreadPool& pool) {
  float* qn = grow(s.q_nope_h, static_cast<std::size_t>(d.nh * d.T * d.dn));
  float* ql = grow(s.q_lat, static_cast<std::size_t>(d.nh * d.T * d.r));
  const DType wt = w.uk_t[0].dtype;
  const std::size_t xs = act_row_bytes(wt, d.dn) * static_cast<std::size_t>(d.T);
  std::uint8_t* xq = grow(s.head_xq, xs * static_cast<std::size_t>(d.nh) + 64);
  pool.parallel_for(d.nh, [&](std::int64_t h0, std::int64_t h1, int) {
    for (std::int64_t h = h0; h < h1; ++h) {
      float* q = qn + h * d.T * d.dn;
      for (std::int64_t t = 0; t < d.T; ++t) {
        const float* src = s.q.data() + (t * d.nh + h) * d.dq;
        std::copy(src, src + d.dn, q + t * d.dn);
      }
      std::uint8_t* x = xq + xs * static_cast<std::size_t>(h);
      quantize_acts(wt, q, d.T, d.dn, x);
      matmul_part(w.uk_t[static_cast<std::size_t>(h)], x, d.T, 0, d.r, ql + h * d.T * d.r, d.r);
    }
  });
}

// ctx[h, t, :] = Σ_j softmax_j(scale * (q_lat·c_j + q_pe·k_pe_j)) c_j over the row's past.
void attend(const Dims& d, float scale, std::int64_t layer, std::span<const BatchRow> rows,
            MlaScratch& s, ThreadPool& pool) {
  std::int64_t max_len = 0;  // by capacity, not position: decode must not regrow it every step
  for (const BatchRow& r : rows) max_len = std::max(max_len, r.cache->capacity());
  float* ctx = grow(s.ctx, static_cast<std::size_t>(d.nh * d.T * d.r));
  float* scores_all = grow(s.scores, static_cast<std::size_t>(pool.size() * max_len));
  pool.parallel_for(d.T * d.nh, [&](std::int64_t b, std::int64_t e, int thread) {
    float* scores = scores_all + thread * max_len;
    for (std::int64_t i = b; i < e; ++i) {
      const std::int64_t t = i / d.nh, h = i % d.nh;
      const BatchRow& row = rows[t];
      const float* ql = s.q_lat.data() + (h * d.T + t) * d.r;
      const float* qpe = s.q.data() + (t * d.nh + h) * d.dq + d.dn;
      const std::int64_t n = row.pos + 1;
      for (std::int64_t j = 0; j < n; ++j) {
        const float* kv = row.cache->row(layer, j);
        scores[j] = (dot(ql, kv, d.r) + dot(qpe, kv + d.r, d.dr)) * scale;
      }
      softmax(scores, n);
      float* out = ctx + (h * d.T + t) * d.r;
      std::fill(out, out + d.r, 0.0f);
      for (std::int64_t j = 0; j < n; ++j) axpy(scores[j], row.cache->row(layer, j), out, d.r);
    }
  });
}

// o[t, h*dv + :] = W_UV,h ctx[h, t, :] (one parallel_for over heads), then out = o_proj(o).
void project_output(const MlaWeights& w, const Dims& d, float* out, MlaScratch& s, ThreadPool& pool) {
  float* o = grow(s.o, static_cast<std::size_t>(d.T * d.nh * d.dv));
  const DType wt = w.uv[0].dtype;
  const std::size_t xs = act_row_bytes(wt, d.r) * static_cast<std::size_t>(d.T);
  std::uint8_t* xq = grow(s.head_xq, xs * static_cast<std::size_t>(d.nh) + 64);
  pool.parallel_for(d.nh, [&](std::int64_t h0, std::int64_t h1, int) {
    for (std::int64_t h = h0; h < h1; ++h) {
      std::uint8_t* x = xq + xs * static_cast<std::size_t>(h);
      quantize_acts(wt, s.ctx.data() + h * d.T * d.r, d.T, d.r, x);
      matmul_part(w.uv[static_cast<std::size_t>(h)], x, d.T, 0, d.dv, o + h * d.dv, d.nh * d.dv);
    }
  });
  matmul(w.o_proj, o, d.T, out, &pool);
}

}  // namespace

void mla_attention(const MlaWeights& w, const Config& c, const Rope& rope, std::int64_t layer,
                   std::span<const BatchRow> rows, const float* xn, float* out, MlaScratch& s,
                   ThreadPool& pool) {
  const Dims d{static_cast<std::int64_t>(rows.size()), c.num_heads, c.qk_nope_head_dim,
               c.qk_rope_head_dim, c.qk_head_dim(), c.v_head_dim, c.kv_lora_rank};
  project_query(w, c, xn, d.T, s, pool);
  write_cache_and_rope(w, d, rope, layer, rows, xn, s, pool);
  absorb_queries(w, d, s, pool);
  attend(d, static_cast<float>(c.softmax_scale()), layer, rows, s, pool);
  project_output(w, d, out, s, pool);
}

}  // namespace dsv2
