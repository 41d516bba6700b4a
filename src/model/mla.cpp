#include "model/mla.h"

#include <algorithm>

#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "kernels/query_lanes.h"
#include "kernels/thread_pool.h"
#include "model/kv_cache.h"
#include "util/error.h"

namespace dsv2 {

namespace {

constexpr float kLatentNormEps = 1e-6f;  // q_a_layernorm / kv_a_layernorm ignore rms_norm_eps

struct Dims {
  std::int64_t T, nh, dn, dr, dq, dv, r;
};

// What a step over the per-head matrices reads, one unit per head: one range when the heads
// lie back to back (they do when loaded), else the first heads'.
StepReads head_reads(const std::vector<Tensor>& heads) {
  StepReads reads;
  const std::size_t bytes = heads[0].nbytes();
  bool adjacent = true;
  for (std::size_t h = 1; h < heads.size(); ++h)
    adjacent = adjacent && heads[h].row(0) == heads[0].row(0) + h * bytes;
  if (adjacent) reads.add({heads[0].data, bytes * heads.size(), static_cast<std::int64_t>(heads.size())});
  else for (const Tensor& t : heads) reads.add({t.data, t.nbytes(), 1});
  return reads;
}

// q[T, nh*dq] (with or without the query LoRA) and kv_a[T, r + dr], the latent and the rope
// key before their norm and rotation. Both read xn: one parallel step, so the small kv_a
// matrix streams as part of the query's.
void project_inputs(const MlaWeights& w, const Dims& d, const Config& c, const float* xn, MlaScratch& s,
                    ThreadPool& pool) {
  float* q = grow(s.q, static_cast<std::size_t>(d.T * d.nh * d.dq));
  float* kva = grow(s.kv_a, static_cast<std::size_t>(d.T * (d.r + d.dr)));
  const StepReads absorb = head_reads(w.uk_t);
  if (c.q_lora_rank == 0) {
    const MatmulOut outs[] = {{&w.q_proj, q}, {&w.kv_a_proj, kva}};
    return matmul_many(outs, xn, d.T, &pool, absorb.span());
  }
  const std::int64_t rq = c.q_lora_rank;
  float* qa = grow(s.q_a, static_cast<std::size_t>(d.T * rq));
  const MatmulOut outs[] = {{&w.q_a_proj, qa}, {&w.kv_a_proj, kva}};
  const NextRead q_b = matmul_reads(w.q_b_proj);
  matmul_many(outs, xn, d.T, &pool, {&q_b, 1});
  for (std::int64_t t = 0; t < d.T; ++t) rmsnorm(qa + t * rq, w.q_a_norm.data(), rq, kLatentNormEps, qa + t * rq);
  matmul(w.q_b_proj, qa, d.T, q, &pool, absorb.span());
}

// Latent + rope key for every row, written into the rows' caches; ropes q_pe in place.
void write_cache_and_rope(const MlaWeights& w, const Dims& d, const Rope& rope, std::int64_t layer,
                          std::span<const BatchRow> rows, MlaScratch& s) {
  const std::int64_t wkv = d.r + d.dr, half = d.dr / 2;
  const float* kva = s.kv_a.data();
  float* cs = grow(s.cos, static_cast<std::size_t>(d.T * half));
  float* sn = grow(s.sin, static_cast<std::size_t>(d.T * half));
  float* dst = grow(s.kv_row, static_cast<std::size_t>(wkv));
  for (std::int64_t t = 0; t < d.T; ++t) {
    rope.angles(rows[t].pos, cs + t * half, sn + t * half);
    rmsnorm(kva + t * wkv, w.kv_a_norm.data(), d.r, kLatentNormEps, dst);
    std::copy(kva + t * wkv + d.r, kva + (t + 1) * wkv, dst + d.r);
    rope_pairs(dst + d.r, cs + t * half, sn + t * half, d.dr);
    rows[t].cache->store(layer, rows[t].pos, dst);
    for (std::int64_t h = 0; h < d.nh; ++h)
      rope_pairs(s.q.data() + (t * d.nh + h) * d.dq + d.dn, cs + t * half, sn + t * half, d.dr);
  }
}

// q_lat[h, t, :] = W_UK,hᵀ q_nope[t, h, :] for every head (head-major). One parallel_for over
// heads, each head's small product on one thread: per-head pool calls cost more than the math.
// Its last unit writes the rows' caches and ropes q_pe (neither needed before attend), so that
// serial work (~3 µs a decode row) overlaps the other threads' heads instead of preceding them.
// Only rows [0, A) take the absorbed form and need q_lat; every row's cache is written.
void absorb_queries(const MlaWeights& w, const Dims& d, const Rope& rope, std::int64_t layer,
                    std::span<const BatchRow> rows, std::int64_t A, MlaScratch& s, ThreadPool& pool) {
  float* qn = grow(s.q_nope_h, static_cast<std::size_t>(d.nh * d.T * d.dn));
  float* ql = grow(s.q_lat, static_cast<std::size_t>(d.nh * d.T * d.r));
  const DType wt = w.uk_t[0].dtype;
  const std::size_t xs = act_row_bytes(wt, d.dn) * static_cast<std::size_t>(d.T);
  std::uint8_t* xq = grow(s.head_xq, xs * static_cast<std::size_t>(d.nh) + 64);
  pool.parallel_for(d.nh + 1, [&](std::int64_t h0, std::int64_t h1, int) {
    for (std::int64_t h = h0; h < h1; ++h) {
      if (h == d.nh) {
        write_cache_and_rope(w, d, rope, layer, rows, s);
        continue;
      }
      if (A == 0) continue;
      float* q = qn + h * d.T * d.dn;
      for (std::int64_t t = 0; t < A; ++t) {
        const float* src = s.q.data() + (t * d.nh + h) * d.dq;
        std::copy(src, src + d.dn, q + t * d.dn);
      }
      std::uint8_t* x = xq + xs * static_cast<std::size_t>(h);
      quantize_acts(wt, q, A, d.dn, x);
      matmul_part(w.uk_t[static_cast<std::size_t>(h)], x, A, 0, d.r, ql + h * d.T * d.r, d.r);
    }
  }, 1, s.uv_reads.span());
}

// Attention of rows [g0, g1) over their caches, in three parallel steps per group of rows:
//  scores  S[t, h, j] = scale * [q_lat | q_pe]_t,h · cache_j;
//  softmax over j <= pos_t;
//  values  ctx[h, t, :] = Σ_j S[t, h, j] c_j (the latent part of the cached rows).
// All by the query-lane kernels (kernels.h): queries transposed, one head per SIMD lane, and S
// stored [j][h], so a cached value is broadcast to all heads and nothing needs a horizontal sum.
// Rows of one sequence at consecutive positions are scored in units of up to kUnitLanes / nh
// rows: each broadcast value then meets the queries of the whole unit (for Lite's 16 heads, two
// rows fill AVX-512's two-vector tile). A bf16 or q8_0 cache is read as floats a piece at a time
// (RowPieces), so all cache types share the kernels and the float math: only the cached values
// differ. Every output is its own computation in a fixed order, so a row's result never depends
// on the batch, the units or the thread split.
constexpr std::int64_t kUnitLanes = 32;

// Cached rows as floats: an f32 cache in place; another type's rows, a piece (rows x columns)
// at a time, dequantized into the calling thread's buffer, small enough to stay in L1 while the
// kernel reads it (kPieceRows x 576 floats for scores, kSumRows x kC for values).
class RowPieces {
 public:
  static constexpr std::int64_t kPieceRows = 12;  // whole register tiles (6 rows, 3 on AVX2)
  RowPieces(const Tensor& cache, std::vector<float>& buffer)
      : cache_(cache), buffer_(buffer), dequantize_(kernels::active_kernels().of(cache.dtype).dequantize_rows) {}
  // fn(i0, i1, rows, ld) for rows [j0, j1), columns [c0, c1) (c0 on a block boundary), in order,
  // in pieces of at most `piece` rows (an f32 cache: one piece, in place); `rows` has stride ld.
  template <class Fn>
  void each(std::int64_t j0, std::int64_t j1, std::int64_t c0, std::int64_t c1, std::int64_t piece, Fn fn) const {
    const std::int64_t step = cache_.dtype == DType::F32 ? j1 - j0 : piece;
    for (std::int64_t i0 = j0; i0 < j1; i0 += step) {
      const std::int64_t i1 = std::min(j1, i0 + step);
      std::int64_t ld = 0;
      const float* rows = get(i0, i1, c0, c1, &ld);
      fn(i0, i1, rows, ld);
    }
  }

 private:
  // Rows [j0, j1), columns [c0, c1), row stride *ld (dequantized pieces: c1 - c0 rounded up to
  // whole blocks of the type, within the row).
  const float* get(std::int64_t j0, std::int64_t j1, std::int64_t c0, std::int64_t c1, std::int64_t* ld) const {
    if (cache_.dtype == DType::F32) {
      *ld = cache_.cols();
      return static_cast<const float*>(cache_.data) + j0 * cache_.cols() + c0;
    }
    const std::int64_t block = dtype_info(cache_.dtype).block_size;  // whole blocks, within the row
    *ld = std::min((c1 - c0 + block - 1) / block * block, cache_.cols() - c0);
    float* out = grow(buffer_, static_cast<std::size_t>((j1 - j0) * *ld));
    const std::size_t skip = row_bytes(cache_.dtype, c0);
    dequantize_({cache_.row(j0) + skip, cache_.row_stride(), j1 - j0, *ld, out, *ld});
    return out;
  }

  const Tensor& cache_;
  std::vector<float>& buffer_;
  kernels::DequantizeRowsFn dequantize_;  // the cache types (BF16, Q8_0) all have one
};

struct AttendGroup {
  const Dims& d;
  std::int64_t layer, g0, g1, cap, ws;
  std::span<const BatchRow> rows;
  const Tensor* views;  // per row: its cache's first len(t) rows
  std::vector<float>* pieces;  // per thread: RowPieces' buffer
  float *S, *qf, *ctx;
  float scale;
  std::int64_t* units;    // first row of each unit of the group, then g1
  std::int64_t* unit_of;  // per row of the group: its unit

  std::int64_t len(std::int64_t t) const { return rows[t].pos + 1; }
  RowPieces cache(std::int64_t t, int thread) const { return {views[t], pieces[thread]}; }
  std::int64_t first(std::int64_t t) const { return units[unit_of[t - g0]]; }
  // Queries of t's unit side by side (lanes): unit size * nh lanes.
  std::int64_t lanes_of(std::int64_t t) const { return (units[unit_of[t - g0] + 1] - first(t)) * d.nh; }
  // A unit's block of scores / queries is that of its first row (each row has room for nh * cap
  // scores and nh * ws query values), its rows' columns side by side.
  float* scores(std::int64_t t) const { return S + (first(t) - g0) * d.nh * cap + (t - first(t)) * d.nh; }
  float* query(std::int64_t t) const { return qf + (first(t) - g0) * d.nh * ws + (t - first(t)) * d.nh; }

  // Splits the group into units: a row joins the previous one's unit when it is the next
  // position of the same sequence and the unit has room.
  std::int64_t make_units() {
    const std::int64_t per_unit = std::max<std::int64_t>(1, kUnitLanes / d.nh);
    std::int64_t n = 0;
    for (std::int64_t t = g0; t < g1; ++t) {
      const bool joins = t > g0 && rows[t].cache == rows[t - 1].cache && rows[t].pos == rows[t - 1].pos + 1 &&
                         t - units[n - 1] < per_unit;
      if (!joins) units[n++] = t;
      unit_of[t - g0] = n - 1;
    }
    units[n] = g1;
    return n;
  }
  // Query elements per make_queries work item: a decode row's 576 elements are 9 items, so both
  // threads transpose.
  static constexpr std::int64_t kQueryChunk = 64;
  std::int64_t query_chunks() const { return (ws + kQueryChunk - 1) / kQueryChunk; }

  // Head h's [q_lat | q_pe | zero padding], element i at query(t)[i * lanes_of(t) + h], written
  // element by element across the heads so the stores are contiguous, elements [i0, i1) of them.
  void make_queries(const MlaScratch& s, std::int64_t t, std::int64_t i0, std::int64_t i1) const {
    float* q = query(t);
    const float* ql = s.q_lat.data() + t * d.r;                // head h: + h * T * r
    const float* qpe = s.q.data() + t * d.nh * d.dq + d.dn;    // head h: + h * dq
    const std::int64_t step = lanes_of(t);
    for (std::int64_t i = i0; i < std::min(i1, d.r); ++i)
      for (std::int64_t h = 0; h < d.nh; ++h) q[i * step + h] = ql[h * d.T * d.r + i];
    for (std::int64_t i = std::max(i0, d.r); i < std::min(i1, d.r + d.dr); ++i)
      for (std::int64_t h = 0; h < d.nh; ++h) q[i * step + h] = qpe[h * d.dq + i - d.r];
    for (std::int64_t i = std::max(i0, d.r + d.dr); i < std::min(i1, ws); ++i)
      for (std::int64_t h = 0; h < d.nh; ++h) q[i * step + h] = 0.0f;
  }
  // Scores of unit u's rows for cached rows [j0, j1) (up to its last row's position).
  void score(std::int64_t u, std::int64_t j0, std::int64_t j1, int thread) const {
    const std::int64_t t = units[u];
    j1 = std::min(j1, len(units[u + 1] - 1));
    if (j0 >= j1) return;
    const std::int64_t nq = lanes_of(t);
    const auto dots = [&](std::int64_t i0, std::int64_t i1, const float* c, std::int64_t ld) {
      lane_dots(c, ld, i1 - i0, ws, query(t), nq, nq, scores(t) + i0 * nq, nq);
    };
    cache(t, thread).each(j0, j1, 0, ws, RowPieces::kPieceRows, dots);
  }
  // Softmax of all heads of row t.
  void normalise(std::int64_t t) const { lane_softmax(scores(t), lanes_of(t), len(t), d.nh, scale); }
  // ctx columns [c0, c1), over the cached rows kSumRows at a time (each call resumes the sums).
  static constexpr std::int64_t kSumRows = 64;
  void sum_values(std::int64_t t, std::int64_t c0, std::int64_t c1, int thread) const {
    c1 = std::min(c1, d.r);
    const std::int64_t nq = lanes_of(t);
    const auto sums = [&](std::int64_t j0, std::int64_t j1, const float* c, std::int64_t ld) {
      lane_sums(c, ld, j1 - j0, c1 - c0, scores(t) + j0 * nq, nq, d.nh, ctx + t * d.r + c0, d.T * d.r, j0 > 0);
    };
    cache(t, thread).each(0, len(t), c0, c1, kSumRows, sums);
  }
};

// Rows [0, A) of the batch (the absorbed ones).
void attend(const Dims& d, float scale, std::int64_t layer, std::span<const BatchRow> rows, std::int64_t A,
            MlaScratch& s, ThreadPool& pool) {
  if (A == 0) return;
  // Cached rows / value columns per work item; 96 rows are whole register tiles of every scores
  // kernel (6 and 3 rows in query_lanes_avx512 / _avx2.cpp).
  constexpr std::int64_t kJ = 96, kC = 64;
  const KvCache& first = *rows[0].cache;
  std::int64_t cap = 0;  // by capacity, not position: decode must not regrow buffers every step
  for (const BatchRow& r : rows) {
    if (r.cache->type() != first.type()) throw Error("attention: KV caches of one batch must share a type");
    cap = std::max(cap, r.cache->capacity());
  }
  const std::int64_t ws = first.stored_width();
  const std::int64_t G = std::clamp<std::int64_t>((std::int64_t{4} << 20) / (d.nh * cap), 1, A);
  if (s.cache_views.size() < rows.size()) s.cache_views.resize(rows.size());
  for (std::size_t t = 0; t < rows.size(); ++t) rows[t].cache->view(layer, rows[t].pos + 1, s.cache_views[t]);
  s.row_pieces.resize(std::max(s.row_pieces.size(), static_cast<std::size_t>(pool.size())));
  if (first.type() != DType::F32)  // every thread's buffer at its largest now: decode steps must not allocate
    for (std::vector<float>& b : s.row_pieces)
      grow(b, static_cast<std::size_t>(std::max(RowPieces::kPieceRows * ws, AttendGroup::kSumRows * kC)));
  AttendGroup g{d, layer, 0, 0, cap, ws, rows, s.cache_views.data(), s.row_pieces.data(),
                grow(s.scores, static_cast<std::size_t>(G * d.nh * cap)),
                grow(s.q_full, static_cast<std::size_t>(G * d.nh * ws)),
                grow(s.ctx, static_cast<std::size_t>(d.nh * d.T * d.r)), scale,
                grow(s.units, static_cast<std::size_t>(G + 1)), grow(s.unit_of, static_cast<std::size_t>(G))};
  for (g.g0 = 0; g.g0 < A; g.g0 += G) {
    g.g1 = std::min(A, g.g0 + G);
    const std::int64_t n = g.g1 - g.g0, nu = g.make_units();
    std::int64_t max_len = 0;
    for (std::int64_t t = g.g0; t < g.g1; ++t) max_len = std::max(max_len, g.len(t));
    const std::int64_t nj = (max_len + kJ - 1) / kJ, nc = (d.r + kC - 1) / kC;
    const std::int64_t nq = g.query_chunks(), kQ = AttendGroup::kQueryChunk;
    pool.parallel_for(n * nq, [&](std::int64_t b, std::int64_t e, int) {
      for (std::int64_t i = b; i < e; ++i) g.make_queries(s, g.g0 + i / nq, i % nq * kQ, i % nq * kQ + kQ);
    });
    pool.parallel_for(nu * nj, [&](std::int64_t b, std::int64_t e, int th) {
      for (std::int64_t i = b; i < e; ++i) g.score(i / nj, i % nj * kJ, i % nj * kJ + kJ, th);
    }, 1, s.uv_reads.span());
    pool.parallel_for(n, [&](std::int64_t b, std::int64_t e, int) {
      for (std::int64_t t = b; t < e; ++t) g.normalise(g.g0 + t);
    });
    pool.parallel_for(n * nc, [&](std::int64_t b, std::int64_t e, int th) {
      for (std::int64_t i = b; i < e; ++i) g.sum_values(g.g0 + i / nc, i % nc * kC, i % nc * kC + kC, th);
    }, 1, s.uv_reads.span());
  }
}

// o[t, h*dv + :] = W_UV,h ctx[h, t, :] for the absorbed rows t < A (one parallel_for over heads;
// the expanded rows' o is written already), then out = o_proj(o) for all rows.
void project_output(const MlaWeights& w, const Dims& d, std::int64_t A, float* out, MlaScratch& s, ThreadPool& pool,
                    std::span<const NextRead> next) {
  float* o = grow(s.o, static_cast<std::size_t>(d.T * d.nh * d.dv));
  const DType wt = w.uv[0].dtype;
  const std::size_t xs = act_row_bytes(wt, d.r) * static_cast<std::size_t>(d.T);
  std::uint8_t* xq = grow(s.head_xq, xs * static_cast<std::size_t>(d.nh) + 64);
  const NextRead o_proj = matmul_reads(w.o_proj);
  if (A > 0) pool.parallel_for(d.nh, [&](std::int64_t h0, std::int64_t h1, int) {
    for (std::int64_t h = h0; h < h1; ++h) {
      std::uint8_t* x = xq + xs * static_cast<std::size_t>(h);
      quantize_acts(wt, s.ctx.data() + h * d.T * d.r, A, d.r, x);
      matmul_part(w.uv[static_cast<std::size_t>(h)], x, A, 0, d.dv, o + h * d.dv, d.nh * d.dv);
    }
  }, 1, {&o_proj, 1});
  matmul(w.o_proj, o, d.T, out, &pool, next);
}

// Rows [0, A) attend in the absorbed form, the rest (prompt rows, when expanded) expanded.
std::int64_t first_expanded_row(std::span<const BatchRow> rows, bool expand_prompts) {
  const auto T = static_cast<std::int64_t>(rows.size());
  if (!expand_prompts) return T;
  std::int64_t A = 0;
  while (A < T && !rows[A].prompt) ++A;
  for (std::int64_t t = A; t < T; ++t)
    if (!rows[t].prompt) throw Error("forward: prompt rows must follow the generated rows of a batch");
  return A;
}

// Each run of prompt rows [A, T) (consecutive positions of one sequence) in the expanded form.
void attend_prompt_rows(const MlaWeights& w, const Dims& d, float scale, std::int64_t layer,
                        std::span<const BatchRow> rows, std::int64_t A, MlaScratch& s, ThreadPool& pool) {
  const MlaShape m{d.nh, d.dn, d.dr, d.dv, d.r};
  float* o = grow(s.o, static_cast<std::size_t>(d.T * d.nh * d.dv));
  for (std::int64_t b = A, e = 0; b < d.T; b = e) {
    e = b + 1;
    while (e < d.T && rows[e].cache == rows[b].cache) ++e;  // validated: consecutive positions
    const ExpandedChunk c{rows[b].cache, layer, rows[b].pos, e - b, s.q.data() + b * d.nh * d.dq, d.nh * d.dq,
                          o + b * d.nh * d.dv, d.nh * d.dv};
    attend_expanded(w, m, scale, c, s.latent, s.expand, pool);
  }
}

}  // namespace

void mla_attention(const MlaWeights& w, const Config& c, const Rope& rope, std::int64_t layer,
                   std::span<const BatchRow> rows, bool expand_prompts, const float* xn, float* out, MlaScratch& s,
                   ThreadPool& pool, std::span<const NextRead> next) {
  const Dims d{static_cast<std::int64_t>(rows.size()), c.num_heads, c.qk_nope_head_dim,
               c.qk_rope_head_dim, c.qk_head_dim(), c.v_head_dim, c.kv_lora_rank};
  s.uv_reads = head_reads(w.uv);  // after the absorbed queries and the attention steps
  const std::int64_t A = first_expanded_row(rows, expand_prompts);
  const auto scale = static_cast<float>(c.softmax_scale());
  project_inputs(w, d, c, xn, s, pool);
  absorb_queries(w, d, rope, layer, rows, A, s, pool);
  attend(d, scale, layer, rows, A, s, pool);
  attend_prompt_rows(w, d, scale, layer, rows, A, s, pool);
  project_output(w, d, A, out, s, pool, next);
}

StepReads mla_first_reads(const MlaWeights& w, const Config& c) {
  StepReads reads;
  reads.add(matmul_reads(c.q_lora_rank == 0 ? w.q_proj : w.q_a_proj));
  reads.add(matmul_reads(w.kv_a_proj));
  return reads;
}

}  // namespace dsv2
