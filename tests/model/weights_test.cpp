// pack_value_heads: a legacy kv_b_proj's per-head W_UV row slices, gapped by the W_UK rows,
// move together with every byte kept; already contiguous ones (attn_v_b) stay where they are.
// group_expert_matrices: each expert's gate, up and down (or, where down differs in size, gate
// and up) move together within the slots the GGUF tensors occupy, every byte kept; layers it
// cannot group stay as they are.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "kernels/thread_pool.h"
#include "model/weights.h"

namespace dsv2 {
namespace {

constexpr std::int64_t kHeads = 4, kDn = 3, kDv = 2, kCols = 8;  // f32 rows of 32 bytes

// One layer whose uv views are slices of `kv_b` ([kHeads * (kDn + kDv), kCols], f32), like
// absorb_kv_b makes them; value rows hold 1000 * head + 10 * row + column, key rows -1.
ModelWeights legacy_layer(std::vector<float>& kv_b) {
  kv_b.assign(static_cast<std::size_t>(kHeads * (kDn + kDv) * kCols), -1.0f);
  const Tensor t{DType::F32, {kHeads * (kDn + kDv), kCols}, kv_b.data()};
  ModelWeights w;
  w.layers.emplace_back();
  for (std::int64_t h = 0; h < kHeads; ++h) {
    for (std::int64_t r = 0; r < kDv; ++r)
      for (std::int64_t c = 0; c < kCols; ++c)
        kv_b[static_cast<std::size_t>(((h * (kDn + kDv) + kDn + r) * kCols) + c)] = static_cast<float>(1000 * h + 10 * r + c);
    w.layers[0].attn.uv.push_back(t.slice_rows(h * (kDn + kDv) + kDn, kDv));
  }
  return w;
}

TEST(PackValueHeads, MovesLegacyHeadsTogetherKeepingEveryValue) {
  std::vector<float> kv_b;
  ModelWeights w = legacy_layer(kv_b);
  EXPECT_EQ(pack_value_heads(w), static_cast<std::size_t>((kHeads - 1) * kDv * kCols * 4));
  const std::vector<Tensor>& uv = w.layers[0].attn.uv;
  for (std::int64_t h = 0; h < kHeads; ++h) {
    const auto* v = static_cast<const float*>(uv[static_cast<std::size_t>(h)].data);
    EXPECT_EQ(v, kv_b.data() + (kDn + h * kDv) * kCols) << "head " << h;  // head 0 stays; the rest follow it
    for (std::int64_t r = 0; r < kDv; ++r)
      for (std::int64_t c = 0; c < kCols; ++c)
        ASSERT_EQ(v[r * kCols + c], static_cast<float>(1000 * h + 10 * r + c)) << "head " << h << " row " << r;
  }
}

TEST(PackValueHeads, LeavesContiguousHeadsAlone) {
  std::vector<float> v_b(static_cast<std::size_t>(kHeads * kDv * kCols), 5.0f);
  const Tensor t{DType::F32, {kHeads * kDv, kCols}, v_b.data()};
  ModelWeights w;
  w.layers.emplace_back();
  for (std::int64_t h = 0; h < kHeads; ++h) w.layers[0].attn.uv.push_back(t.slice_rows(h * kDv, kDv));
  EXPECT_EQ(pack_value_heads(w), 0u);
  for (std::int64_t h = 0; h < kHeads; ++h) EXPECT_EQ(w.layers[0].attn.uv[static_cast<std::size_t>(h)].data, t.row(h * kDv));
}

// One MoE layer whose experts' gates are the blocks of `gates`, ups those of `ups` and downs
// those of `downs` (f32 [kRows, kCols] each, or [kRows + 1, kCols] for down_rows, GGUF's three
// tensors); block values are 1000 * expert + 100 * (0 gate, 1 up, 2 down) + index. Without
// `downs` the experts have no down matrix.
constexpr std::int64_t kRows = 3;
constexpr std::size_t kBlock = kRows * kCols;

ModelWeights moe_layer(std::vector<float>& gates, std::vector<float>& ups, std::int64_t experts,
                       std::vector<float>* downs = nullptr, std::int64_t down_rows = kRows) {
  gates.resize(static_cast<std::size_t>(experts) * kBlock), ups.resize(gates.size());
  if (downs != nullptr) downs->resize(static_cast<std::size_t>(experts * down_rows * kCols));
  ModelWeights w;
  w.layers.emplace_back();
  w.layers[0].is_moe = true;
  for (std::int64_t e = 0; e < experts; ++e) {
    MlpWeights m;
    float* g = gates.data() + e * kBlock;
    float* u = ups.data() + e * kBlock;
    for (std::size_t i = 0; i < kBlock; ++i)
      g[i] = static_cast<float>(1000 * e + static_cast<std::int64_t>(i)), u[i] = static_cast<float>(1000 * e + 100 + static_cast<std::int64_t>(i));
    m.gate = Tensor{DType::F32, {kRows, kCols}, g};
    m.up = Tensor{DType::F32, {kRows, kCols}, u};
    if (downs != nullptr) {
      float* d = downs->data() + e * down_rows * kCols;
      for (std::int64_t i = 0; i < down_rows * kCols; ++i) d[i] = static_cast<float>(1000 * e + 200 + i);
      m.down = Tensor{DType::F32, {down_rows, kCols}, d};
    }
    w.layers[0].moe.experts.push_back(m);
  }
  return w;
}

void expect_values_kept(const ModelWeights& w) {
  const auto& experts = w.layers[0].moe.experts;
  for (std::size_t e = 0; e < experts.size(); ++e) {
    for (std::size_t i = 0; i < kBlock; ++i) {
      ASSERT_EQ(static_cast<const float*>(experts[e].gate.data)[i], static_cast<float>(1000 * e + i)) << "expert " << e;
      ASSERT_EQ(static_cast<const float*>(experts[e].up.data)[i], static_cast<float>(1000 * e + 100 + i)) << "expert " << e;
    }
    for (std::int64_t i = 0; experts[e].down.data != nullptr && i < experts[e].down.numel(); ++i)
      ASSERT_EQ(static_cast<const float*>(experts[e].down.data)[i], static_cast<float>(1000 * static_cast<std::int64_t>(e) + 200 + i)) << "expert " << e;
  }
}

bool down_follows_up(const MlpWeights& m) {
  return static_cast<const float*>(m.down.data) == static_cast<const float*>(m.up.data) + kBlock;
}

bool up_follows_gate(const MlpWeights& m) {
  return static_cast<const float*>(m.up.data) == static_cast<const float*>(m.gate.data) + kBlock;
}

bool within(const void* p, const std::vector<float>& v) {
  const auto* f = static_cast<const float*>(p);
  return f >= v.data() && f + kBlock <= v.data() + v.size();
}

TEST(GroupExpertMatrices, PutsGateUpAndDownBackToBackInTheSameSlots) {
  ThreadPool pool(2);
  std::vector<float> gates, ups, downs;
  ModelWeights w = moe_layer(gates, ups, 6, &downs);  // three runs of 6 slots: 6 triples
  EXPECT_GT(group_expert_matrices(w, pool), 0u);
  for (const MlpWeights& m : w.layers[0].moe.experts) EXPECT_TRUE(up_follows_gate(m) && down_follows_up(m));
  expect_values_kept(w);
  EXPECT_EQ(group_expert_matrices(w, pool), 0u) << "a grouped layer is left alone";
}

TEST(GroupExpertMatrices, PairsGateAndUpWhenDownDiffersInSize) {
  ThreadPool pool(2);
  std::vector<float> gates, ups, downs;
  ModelWeights w = moe_layer(gates, ups, 4, &downs, kRows + 1);
  EXPECT_GT(group_expert_matrices(w, pool), 0u);
  for (std::size_t e = 0; e < 4; ++e) {
    EXPECT_TRUE(up_follows_gate(w.layers[0].moe.experts[e]));
    EXPECT_EQ(w.layers[0].moe.experts[e].down.data, downs.data() + e * (kRows + 1) * kCols) << "downs stay";
  }
  expect_values_kept(w);
}

TEST(GroupExpertMatrices, PutsEveryUpAfterItsGateInTheSameSlots) {
  ThreadPool pool(2);
  std::vector<float> gates, ups;
  ModelWeights w = moe_layer(gates, ups, 6);
  EXPECT_GT(group_expert_matrices(w, pool), 0u);
  for (const MlpWeights& m : w.layers[0].moe.experts) {
    EXPECT_TRUE(up_follows_gate(m));
    EXPECT_TRUE(within(m.gate.data, gates) || within(m.gate.data, ups));
  }
  expect_values_kept(w);
  EXPECT_EQ(group_expert_matrices(w, pool), 0u) << "a paired layer is left alone";
  expect_values_kept(w);
}

TEST(GroupExpertMatrices, AnOddExpertCountPairsAllButOne) {
  ThreadPool pool(2);
  std::vector<float> gates, ups;
  ModelWeights w = moe_layer(gates, ups, 5);  // two runs of 5 slots: 4 pairs and 2 slots over
  EXPECT_GT(group_expert_matrices(w, pool), 0u);
  int paired = 0;
  for (const MlpWeights& m : w.layers[0].moe.experts) paired += up_follows_gate(m);
  EXPECT_EQ(paired, 4);
  expect_values_kept(w);
}

TEST(GroupExpertMatrices, LeavesLayersItCannotGroupAlone) {
  ThreadPool pool(1);
  std::vector<float> gates, ups;
  ModelWeights w = moe_layer(gates, ups, 4);
  auto& experts = w.layers[0].moe.experts;
  experts[1].gate = experts[0].gate;  // two experts sharing bytes (a fused checkpoint's view)
  EXPECT_EQ(group_expert_matrices(w, pool), 0u);
  EXPECT_EQ(experts[0].gate.data, gates.data());
  EXPECT_EQ(experts[2].up.data, ups.data() + 2 * kBlock);
  ModelWeights v = moe_layer(gates, ups, 4);
  v.layers[0].moe.experts[3].up.shape = {kRows - 1, kCols};  // an up of another size
  EXPECT_EQ(group_expert_matrices(v, pool), 0u);
  expect_values_kept(v);
  EXPECT_EQ(v.layers[0].moe.experts[3].gate.data, gates.data() + 3 * kBlock);
}

}  // namespace
}  // namespace dsv2
