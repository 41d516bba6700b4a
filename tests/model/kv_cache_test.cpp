#include "model/kv_cache.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "kernels/matmul.h"
#include "model/deepseek_v2.h"
#include "support/golden.h"
#include "util/error.h"

namespace dsv2 {
namespace {

TEST(KvCache, StoresOnlyTheLatentAndRopeKey) {
  Config c;  // defaults = DeepSeek-V2 shapes: r_kv 512, dr 64
  c.num_layers = 27;
  KvCache cache(c, 16);
  EXPECT_EQ(cache.width(), 576);
  EXPECT_EQ(cache.bytes_per_token(), 27u * (512 + 64) * sizeof(float));
  EXPECT_EQ(cache.bytes_allocated(), 16u * cache.bytes_per_token());
}

TEST(KvCache, NeverAllocatesTheFullContextUnlessAsked) {
  test::Golden g = test::load_golden("lite-tiny");
  DeepseekV2 model(Checkpoint::open_hf_dir(g.model_dir), 1);
  KvCache small = model.new_cache(64);
  EXPECT_EQ(small.capacity(), 64);
  EXPECT_EQ(small.bytes_allocated(), 64u * small.bytes_per_token());
  EXPECT_THROW(model.new_cache(model.config().max_position_embeddings + 1), Error);
}

TEST(KvCache, ExceedingTheContextIsAClearError) {
  test::Golden g = test::load_golden("lite-tiny");
  DeepseekV2 model(Checkpoint::open_hf_dir(g.model_dir), 1);
  KvCache cache = model.new_cache(4);
  std::vector<BatchRow> rows;
  for (int p = 0; p < 5; ++p) rows.push_back({1, p, &cache, false});
  try {
    model.forward(rows, nullptr);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("context length exceeded"), std::string::npos) << e.what();
  }
  EXPECT_EQ(cache.size(), 0);  // nothing was appended
  rows.resize(4);
  model.forward(rows, nullptr);
  EXPECT_EQ(cache.size(), 4);
}

TEST(KvCache, RejectsGapsAndBadTokens) {
  test::Golden g = test::load_golden("lite-tiny");
  DeepseekV2 model(Checkpoint::open_hf_dir(g.model_dir), 1);
  KvCache cache = model.new_cache(8);
  BatchRow gap{1, 3, &cache, false};
  EXPECT_THROW(model.forward({&gap, 1}, nullptr), Error);
  BatchRow bad{static_cast<std::int32_t>(model.config().vocab_size), 0, &cache, false};
  EXPECT_THROW(model.forward({&bad, 1}, nullptr), Error);
}

TEST(KvCache, TruncateThenRecomputeGivesTheSameLogits) {
  test::Golden g = test::load_golden("lite-tiny");
  DeepseekV2 model(Checkpoint::open_hf_dir(g.model_dir), 1);
  const std::int64_t V = g.vocab;
  KvCache cache = model.new_cache(16);
  std::vector<BatchRow> rows;
  for (int p = 0; p < 6; ++p) rows.push_back({g.input_ids[p], p, &cache, p == 5});
  std::vector<float> a(V), b(V);
  model.forward(rows, a.data());
  cache.truncate(3);
  rows.erase(rows.begin(), rows.begin() + 3);
  model.forward(rows, b.data());
  EXPECT_LE(test::max_row_diff(a.data(), b.data(), V), 1e-5f);
}

TEST(KvCache, QuantizedTypesShrinkTheRow) {
  Config c;
  c.num_layers = 27;
  KvCache q8(c, 16, DType::Q8_0), bf16(c, 16, DType::BF16);
  EXPECT_EQ(q8.stored_width(), 576);
  EXPECT_EQ(q8.bytes_per_token(), 27u * 18 * 34);  // 18 blocks of 32 int8 and an f16 scale
  EXPECT_EQ(q8.bytes_allocated(), 16u * q8.bytes_per_token());
  EXPECT_EQ(bf16.bytes_per_token(), 27u * 576 * 2);
  EXPECT_THROW(KvCache(c, 16, DType::Q4_0), Error);
}

// A config with the golden fixtures' cache widths: kv_lora_rank + qk_rope_head_dim.
Config config_of_width(std::int64_t latent, std::int64_t rope) {
  Config c;
  c.num_layers = 2;
  c.kv_lora_rank = latent;
  c.qk_rope_head_dim = rope;
  return c;
}

// The tiny goldens' widths 80, 48 and 56 are no multiple of q8_0's 32: rows pad to whole blocks.
TEST(KvCache, RowsPadToWholeBlocks) {
  const std::int64_t widths[][3] = {{64, 16, 96}, {32, 16, 64}, {48, 8, 64}};  // latent, rope, q8_0 stored
  for (const auto& w : widths) {
    const Config c = config_of_width(w[0], w[1]);
    EXPECT_EQ(KvCache(c, 4, DType::Q8_0).stored_width(), w[2]);
    EXPECT_EQ(KvCache(c, 4, DType::Q8_0).bytes_per_token(), 2u * static_cast<std::size_t>(w[2] / 32) * 34);
    EXPECT_EQ(KvCache(c, 4, DType::BF16).stored_width(), w[0] + w[1]);  // blocks of 1: no padding
    EXPECT_EQ(KvCache(c, 4, DType::F32).bytes_per_token(), 2u * static_cast<std::size_t>(w[0] + w[1]) * 4);
  }
}

// The largest error a stored element may carry. bf16 rounds to nearest: half a unit in the last
// of 8 bits. q8_0 rounds to half a step d = amax/127 of its block, plus up to 127 steps times the
// f16 rounding of d (2^-11 relative).
double storage_error(DType t, float x, float block_amax) {
  if (t == DType::BF16) return std::ldexp(std::fabs(x), -8);
  if (t == DType::Q8_0) return (0.5 + 127 * std::ldexp(1.0, -11)) * block_amax / 127;
  return 0.0;
}

// Checks view() of `layer` against the rows stored there: each within its storage error, the
// padding exactly zero.
void expect_view_matches(const KvCache& cache, std::int64_t layer, const std::vector<std::vector<float>>& rows) {
  Tensor v;
  cache.view(layer, static_cast<std::int64_t>(rows.size()), v);
  ASSERT_EQ(v.dtype, cache.type());
  ASSERT_EQ(v.shape, (std::vector<std::int64_t>{static_cast<std::int64_t>(rows.size()), cache.stored_width()}));
  std::vector<float> got(static_cast<std::size_t>(cache.stored_width()));
  for (std::size_t pos = 0; pos < rows.size(); ++pos) {
    dequantize_row(v, static_cast<std::int64_t>(pos), got.data());
    for (std::int64_t i = 0; i < cache.stored_width(); ++i) {
      const auto k = static_cast<std::size_t>(i);
      const float want = i < cache.width() ? rows[pos][k] : 0.0f;
      const std::int64_t b0 = i / 32 * 32, b1 = std::min(b0 + 32, cache.width());
      float amax = 0.0f;
      for (std::int64_t j = b0; j < b1; ++j) amax = std::max(amax, std::fabs(rows[pos][static_cast<std::size_t>(j)]));
      const double tol = i < cache.width() ? storage_error(cache.type(), want, amax) : 0.0;  // padding: exact 0
      ASSERT_LE(std::fabs(got[k] - want), tol)
          << dtype_name(cache.type()) << " layer " << layer << " position " << pos << " element " << i;
    }
  }
}

class KvCacheRoundTrip : public ::testing::TestWithParam<DType> {};

// store() then view() on a width-80 cache (q8_0 pads it to 96): f32 exact, bf16 and q8_0 within
// their rounding. Layers get different rows so that a view of the wrong layer fails.
TEST_P(KvCacheRoundTrip, ViewReturnsTheStoredRows) {
  const Config c = config_of_width(64, 16);
  KvCache cache(c, 8, GetParam());
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<std::vector<float>> rows[2];
  for (std::int64_t pos = 0; pos < 5; ++pos) {
    for (std::int64_t layer = 0; layer < 2; ++layer) {
      std::vector<float> row(static_cast<std::size_t>(cache.width()));
      for (float& x : row) x = dist(rng) * static_cast<float>(pos + 1);  // a scale per row: per-block scales matter
      cache.store(layer, pos, row.data());
      rows[layer].push_back(std::move(row));
    }
  }
  expect_view_matches(cache, 0, rows[0]);
  expect_view_matches(cache, 1, rows[1]);
}

INSTANTIATE_TEST_SUITE_P(Types, KvCacheRoundTrip, ::testing::Values(DType::F32, DType::BF16, DType::Q8_0),
                         [](const auto& p) { return std::string(dtype_name(p.param)); });

TEST(KvCacheTypeFromName, AcceptsTheCacheTypesInAnyCase) {
  EXPECT_EQ(kv_cache_type_from_name("f32", "--cache-type"), DType::F32);
  EXPECT_EQ(kv_cache_type_from_name("BF16", "--cache-type"), DType::BF16);
  EXPECT_EQ(kv_cache_type_from_name("Q8_0", "--cache-type"), DType::Q8_0);
}

// Known dtypes that are no cache type (q4_0, f16) and unknown names alike, naming the flag.
TEST(KvCacheTypeFromName, RejectsOtherTypesNamingTheFlag) {
  for (const char* name : {"q4_0", "f16", "fp8", ""}) {
    try {
      kv_cache_type_from_name(name, "--cache-type");
      ADD_FAILURE() << "accepted '" << name << "'";
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("--cache-type"), std::string::npos) << msg;
      EXPECT_NE(msg.find("'" + std::string(name) + "'"), std::string::npos) << msg;
    }
  }
}

}  // namespace
}  // namespace dsv2
