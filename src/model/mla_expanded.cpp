#include "model/mla_expanded.h"

#include <algorithm>
#include <limits>

#include "kernels/matmul.h"
#include "kernels/query_lanes.h"
#include "model/batch.h"

namespace dsv2 {

namespace {

// Queries per block: a block's scores (keys x 64 floats, 1 MiB at 4096 keys) stay in L2 between
// the dots, the softmax and the sums; four 16-lane vectors per broadcast key value.
constexpr std::int64_t kQueryBlock = 64;

// Latent rows [first, keys) of the chunk's layer as floats, row j at lat[(j - first) * ld].
struct Latent {
  const float* lat;
  std::int64_t first, ld;
  const float* row(std::int64_t j) const { return lat + (j - first) * ld; }
};

// Head h's matrices as floats in the lane kernels' query layout ([r][dn] and [r][dv]): a latent
// row meets them as "queries", so W_UK,h c_j and W_UV,h c_j are lane dots.
void head_matrices(const MlaWeights& w, const MlaShape& d, std::int64_t h, ExpandScratch& x) {
  const Tensor& uk_t = w.uk_t[static_cast<std::size_t>(h)];  // [r, dn]: already this layout
  const Tensor& uv = w.uv[static_cast<std::size_t>(h)];      // [dv, r]: transposed below
  float* wk = grow(x.wk, static_cast<std::size_t>(d.r * d.dn));
  for (std::int64_t c = 0; c < d.r; ++c) dequantize_row(uk_t, c, wk + c * d.dn);
  float* uv_rows = grow(x.scores, static_cast<std::size_t>(d.dv * d.r));  // scores' buffer, free here
  for (std::int64_t i = 0; i < d.dv; ++i) dequantize_row(uv, i, uv_rows + i * d.r);
  float* wv = grow(x.wv, static_cast<std::size_t>(d.r * d.dv));
  for (std::int64_t i = 0; i < d.dv; ++i)
    for (std::int64_t c = 0; c < d.r; ++c) wv[c * d.dv + i] = uv_rows[i * d.r + c];
}

// Expanded rows of tokens [j0, j1) into out (stride W): [W_UK,h c_j | k_pe,j | W_UV,h c_j].
void expand(const MlaShape& d, const Latent& l, std::int64_t j0, std::int64_t j1, const ExpandScratch& x, float* out,
            std::int64_t W) {
  if (j0 >= j1) return;
  lane_dots(l.row(j0), l.ld, j1 - j0, d.r, x.wk.data(), d.dn, d.dn, out, W);
  lane_dots(l.row(j0), l.ld, j1 - j0, d.r, x.wv.data(), d.dv, d.dv, out + d.dq(), W);
  for (std::int64_t j = j0; j < j1; ++j) std::copy(l.row(j) + d.r, l.row(j) + d.r + d.dr, out + (j - j0) * W + d.dn);
}

// The key/value rows of one head: [0, kept) in the cache, [kept, keys) in the thread's scratch.
struct HeadRows {
  const float* kept;
  const float* rest;
  std::int64_t n_kept, W;
};

// Queries [q0, q0 + nq) of head h against their keys: scores [key][query], causal mask, softmax
// down each query's column, weighted sums of the values into o.
void attend_block(const MlaShape& d, float scale, const ExpandedChunk& c, const HeadRows& hr, std::int64_t h,
                  std::int64_t q0, std::int64_t nq, ExpandScratch& x) {
  const std::int64_t dq = d.dq(), keys = c.p0 + q0 + nq, a = std::min(keys, hr.n_kept), W = hr.W;
  float* qt = grow(x.qt, static_cast<std::size_t>(dq * kQueryBlock));
  for (std::int64_t q = 0; q < nq; ++q)
    for (std::int64_t i = 0; i < dq; ++i) qt[i * nq + q] = c.q[(q0 + q) * c.ldq + h * dq + i];
  float* s = grow(x.scores, static_cast<std::size_t>(keys * kQueryBlock));
  lane_dots(hr.kept, W, a, dq, qt, nq, nq, s, nq);
  lane_dots(hr.rest, W, keys - a, dq, qt, nq, nq, s + a * nq, nq);
  // Keys after a query's position: exp(-inf) is exactly 0 in lane_softmax, so its column's sum
  // and the weighted sums are those over its own keys, whatever the block.
  for (std::int64_t q = 0; q < nq; ++q)
    for (std::int64_t j = c.p0 + q0 + q + 1; j < keys; ++j) s[j * nq + q] = -std::numeric_limits<float>::infinity();
  lane_softmax(s, nq, keys, nq, scale);
  float* o = c.o + q0 * c.ldo + h * d.dv;
  lane_sums(hr.kept + dq, W, a, d.dv, s, nq, nq, o, c.ldo);
  lane_sums(hr.rest + dq, W, keys - a, d.dv, s + a * nq, nq, nq, o, c.ldo, true);
}

// The cache's latent rows [first, keys) as floats: an f32 cache in place, another dequantized.
Latent latent_rows(const KvCache& cache, std::int64_t layer, std::int64_t first, std::int64_t keys,
                   std::vector<float>& buffer, ThreadPool& pool) {
  Tensor view;
  cache.view(layer, keys, view);
  const std::int64_t ld = view.cols();
  if (view.dtype == DType::F32) return {static_cast<const float*>(view.data) + first * ld, first, ld};
  float* out = grow(buffer, static_cast<std::size_t>((keys - first) * ld));
  constexpr std::int64_t kRows = 64;
  pool.parallel_for((keys - first + kRows - 1) / kRows, [&](std::int64_t b, std::int64_t e, int) {
    for (std::int64_t j = first + b * kRows; j < std::min(keys, first + e * kRows); ++j)
      dequantize_row(view, j, out + (j - first) * ld);
  });
  return {out, first, ld};
}

}  // namespace

void attend_expanded(const MlaWeights& w, const MlaShape& d, float scale, const ExpandedChunk& c,
                     std::vector<float>& latent, std::vector<ExpandScratch>& per_thread, ThreadPool& pool) {
  ExpandedRows& store = c.cache->expanded();
  const std::int64_t keys = c.p0 + c.T, kept = std::min(keys, store.kept());
  const std::int64_t filled = std::min(store.filled(c.layer), kept), W = store.width();
  const Latent lat = latent_rows(*c.cache, c.layer, filled, keys, latent, pool);
  per_thread.resize(std::max(per_thread.size(), static_cast<std::size_t>(pool.size())));
  pool.parallel_for(d.nh, [&](std::int64_t h0, std::int64_t h1, int th) {
    ExpandScratch& x = per_thread[static_cast<std::size_t>(th)];
    float* rest = grow(x.rows, static_cast<std::size_t>(std::max<std::int64_t>(keys - kept, 1) * W));
    for (std::int64_t h = h0; h < h1; ++h) {
      float* rows = kept > 0 ? store.rows(c.layer, h) : rest;
      if (filled < keys) head_matrices(w, d, h, x);
      expand(d, lat, filled, kept, x, rows + filled * W, W);
      expand(d, lat, kept, keys, x, rest, W);
      const HeadRows hr{rows, rest, kept, W};
      for (std::int64_t q0 = 0; q0 < c.T; q0 += kQueryBlock) attend_block(d, scale, c, hr, h, q0, std::min(kQueryBlock, c.T - q0), x);
    }
  });
  store.set_filled(c.layer, std::max(store.filled(c.layer), kept));
}

}  // namespace dsv2
