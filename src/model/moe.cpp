#include "model/moe.h"

#include <algorithm>

#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "model/batch.h"

namespace dsv2 {

void mlp_forward(const MlpWeights& w, const float* x, std::int64_t T, float* out, MlpScratch& s,
                 ThreadPool& pool) {
  const std::int64_t I = w.gate.rows();
  float* g = grow(s.gate, static_cast<std::size_t>(T * I));
  float* u = grow(s.up, static_cast<std::size_t>(T * I));
  matmul(w.gate, x, T, g, &pool);
  matmul(w.up, x, T, u, &pool);
  silu_mul(g, u, T * I);
  matmul(w.down, g, T, out, &pool);
}

namespace {

// Buckets batch rows by expert.
void group_by_expert(const Config& c, std::int64_t T, MoeScratch& s) {
  s.rows_of.resize(static_cast<std::size_t>(c.n_routed_experts));
  s.weight_of.resize(static_cast<std::size_t>(c.n_routed_experts));
  for (auto& r : s.rows_of) r.clear();
  for (auto& wt : s.weight_of) wt.clear();
  const std::int64_t k = s.routing.top_k;
  for (std::int64_t t = 0; t < T; ++t) {
    for (std::int64_t j = 0; j < k; ++j) {
      const auto e = static_cast<std::size_t>(s.routing.experts[static_cast<std::size_t>(t * k + j)]);
      s.rows_of[e].push_back(static_cast<std::int32_t>(t));
      s.weight_of[e].push_back(s.routing.weights[static_cast<std::size_t>(t * k + j)]);
    }
  }
}

}  // namespace

void moe_forward(const MoeWeights& w, const Config& c, const float* x, std::int64_t T, float* out,
                 MoeScratch& s, ThreadPool& pool) {
  const std::int64_t H = c.hidden_size;
  route(w.router, c, x, T, s.routing, s.router, pool);
  group_by_expert(c, T, s);
  std::fill(out, out + T * H, 0.0f);
  for (std::size_t e = 0; e < s.rows_of.size(); ++e) {
    const auto& rows = s.rows_of[e];
    const auto n = static_cast<std::int64_t>(rows.size());
    if (n == 0) continue;
    float* xe = grow(s.x_e, static_cast<std::size_t>(n * H));
    float* ye = grow(s.y_e, static_cast<std::size_t>(n * H));
    for (std::int64_t i = 0; i < n; ++i) std::copy(x + rows[i] * H, x + (rows[i] + 1) * H, xe + i * H);
    mlp_forward(w.experts[e], xe, n, ye, s.mlp, pool);
    for (std::int64_t i = 0; i < n; ++i) axpy(s.weight_of[e][i], ye + i * H, out + rows[i] * H, H);
  }
  if (!w.has_shared) return;
  float* sh = grow(s.shared, static_cast<std::size_t>(T * H));
  mlp_forward(w.shared, x, T, sh, s.mlp, pool);
  for (std::int64_t i = 0; i < T * H; ++i) out[i] += sh[i];
}

}  // namespace dsv2
