#include "model/kv_cache.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace dsv2
