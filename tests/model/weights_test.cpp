// pack_value_heads: a legacy kv_b_proj's per-head W_UV row slices, gapped by the W_UK rows,
// move together with every byte kept; already contiguous ones (attn_v_b) stay where they are.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

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

}  // namespace
}  // namespace dsv2
