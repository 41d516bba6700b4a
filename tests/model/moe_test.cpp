// moe_forward against the block written out row by row (router, top-k, each chosen expert's
// SwiGLU in ascending expert order, then the shared experts), with the same kernels: every output
// must be bit-identical, for decode (one row) and prefill batches, any thread count, experts of
// mixed dtypes (a row routed to an expert whose type differs from the others' is gathered and
// quantized on its own) and with or without shared experts.
#include "model/moe.h"

#include <gtest/gtest.h>

#include <string>

#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "kernels/test_util.h"
#include "kernels/thread_pool.h"

namespace dsv2 {
namespace {

constexpr std::int64_t kH = 256, kI = 64, kE = 8;

struct Block {
  std::vector<test::Weights> store;  // owns the bytes the tensors view
  MoeWeights w;
  Config c;
};

MlpWeights mlp(Block& b, DType t, std::int64_t width, std::uint32_t seed) {
  for (auto [rows, cols] : {std::pair{width, kH}, std::pair{width, kH}, std::pair{kH, width}})
    b.store.push_back(test::make_weights(t, rows, cols, seed++));
  const std::size_t n = b.store.size();
  return {b.store[n - 3].tensor(), b.store[n - 2].tensor(), b.store[n - 1].tensor()};
}

// Routed experts in Q8_0, but expert 5 in F32; shared experts (width 2 * kI) in Q4_0_R16.
std::unique_ptr<Block> make_block(bool shared) {
  auto b = std::make_unique<Block>();
  b->store.reserve(3 * kE + 4);  // tensors view into store: no reallocation
  b->c.hidden_size = kH;
  b->c.n_routed_experts = kE;
  b->c.num_experts_per_tok = 2;
  b->c.routed_scaling_factor = 1.5;
  b->store.push_back(test::make_weights(DType::F32, kE, kH, 1));
  b->w.router = b->store.back().tensor();
  for (std::int64_t e = 0; e < kE; ++e)
    b->w.experts.push_back(mlp(*b, e == 5 ? DType::F32 : DType::Q8_0, kI, static_cast<std::uint32_t>(10 + 3 * e)));
  b->w.has_shared = shared;
  if (shared) b->w.shared = mlp(*b, DType::Q4_0_R16, 2 * kI, 90);
  return b;
}

void swiglu(const MlpWeights& m, const float* x, float wt, float* out) {
  const std::int64_t I = m.gate.rows();
  std::vector<float> g(static_cast<std::size_t>(I)), u(g.size()), y(kH);
  matmul(m.gate, x, 1, g.data());
  matmul(m.up, x, 1, u.data());
  silu_mul(g.data(), u.data(), I);
  matmul(m.down, g.data(), 1, y.data());
  axpy(wt, y.data(), out, kH);
}

// The block for one row, written out.
std::vector<float> reference_row(const Block& b, const float* x) {
  std::vector<float> probs(kE), out(kH, 0.0f), weights(2);
  std::vector<std::int32_t> experts(2);
  matmul(b.w.router, x, 1, probs.data());
  RouterScratch rs;
  select_experts(b.c, probs.data(), experts.data(), weights.data(), rs);
  for (std::int64_t e = 0; e < kE; ++e)  // ascending expert order, as moe_forward sums
    for (int j = 0; j < 2; ++j)
      if (experts[j] == e) swiglu(b.w.experts[e], x, weights[j], out.data());
  if (b.w.has_shared) swiglu(b.w.shared, x, 1.0f, out.data());
  return out;
}

void expect_matches(const Block& b, std::int64_t T, std::uint32_t seed, MoeScratch& s, ThreadPool& pool) {
  const auto x = test::random_floats(static_cast<std::size_t>(T * kH), seed);
  std::vector<float> out(static_cast<std::size_t>(T * kH));
  moe_forward(b.w, b.c, x.data(), T, out.data(), s, pool);
  for (std::int64_t t = 0; t < T; ++t) {
    const std::vector<float> ref = reference_row(b, x.data() + t * kH);
    const std::vector<float> got(out.begin() + t * kH, out.begin() + (t + 1) * kH);
    ASSERT_EQ(got, ref) << "shared=" << b.w.has_shared << " T=" << T << " threads=" << pool.size() << " row " << t;
  }
}

TEST(Moe, MatchesTheBlockWrittenOutRowByRow) {
  for (bool shared : {true, false}) {
    const auto b = make_block(shared);
    for (int threads : {1, 2, 3}) {
      ThreadPool pool(threads);
      MoeScratch s;  // reused by every step, as in decoding
      bool f32_expert = false;  // decode steps routed to expert 5, the F32 one
      for (std::uint32_t seed = 0; seed < 16; ++seed) {
        expect_matches(*b, 1, seed, s, pool);
        f32_expert |= s.routing.experts[0] == 5 || s.routing.experts[1] == 5;
      }
      EXPECT_TRUE(f32_expert) << "no decode step reached the F32 expert: pick other seeds";
      for (std::int64_t T : {2, 7, 33}) expect_matches(*b, T, static_cast<std::uint32_t>(100 + T), s, pool);
    }
  }
}

TEST(Moe, CountsTheDistinctRoutedExperts) {
  const auto b = make_block(true);
  ThreadPool pool(2);
  MoeScratch s;
  const auto x = test::random_floats(static_cast<std::size_t>(kH), 5);
  std::vector<float> out(kH);
  EXPECT_EQ(moe_forward(b->w, b->c, x.data(), 1, out.data(), s, pool), 2);
  const auto many = test::random_floats(static_cast<std::size_t>(64 * kH), 6);
  std::vector<float> outs(static_cast<std::size_t>(64 * kH));
  EXPECT_EQ(moe_forward(b->w, b->c, many.data(), 64, outs.data(), s, pool), kE);  // 64 rows reach all 8
}

}  // namespace
}  // namespace dsv2
