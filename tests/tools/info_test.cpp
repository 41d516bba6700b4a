#include "tools/info.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "support/fixtures.h"
#include "tools/synth.h"

namespace dsv2::tools {
namespace {

void expect_has(const std::string& text, const std::string& what) {
  EXPECT_NE(text.find(what), std::string::npos) << "missing '" << what << "' in:\n" << text;
}

TEST(Info, GoldenLiteTiny) {
  auto r = test::run_dsv2({"info", "-m", test::fixture("golden/lite-tiny/model")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* s :
       {"layers         4 (1 dense, 3 MoE)", "hidden         128", "heads          4",
        "kv_lora_rank 64, qk_nope_head_dim 32, qk_rope_head_dim 16, v_head_dim 32",
        "query LoRA     none", "width 320 (layers 0)", "16 routed, top-4, 2 shared, width 48",
        "greedy, routed_scaling_factor 1,",
        "yarn factor 40, original_max_position 4096, beta_fast 32, beta_slow 1, "
        "mscale 0.707, mscale_all_dim 0.707",
        "max positions  163840", "vocab          1024",
        // the index's total_size is 6,632,960 bytes of f32
        "total 0.00B (1,658,240)",
        // 4 layers x (64 + 16) values x 4 bytes
        "1280 bytes f32, 640 bytes bf16 (MLA: 4 layers x 80 values)",
        // 4 layers x 4 heads x (48 + 32) values x 4 bytes
        "uncompressed MHA would need 5120 bytes f32", "2 files, 6.66 MB (6,656,040 bytes)"})
    expect_has(r.out, s);
}

TEST(Info, GroupLimitedRoutingAndQueryLora) {
  auto r = test::run_dsv2({"info", "-m", test::fixture("golden/v2-tiny/model")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_has(r.out, "query LoRA     rank 40");
  expect_has(r.out, "group_limited_greedy (n_group 4, topk_group 2), routed_scaling_factor 16,");
}

// A GGUF file describes the same model as the directory it was converted from, plus its llama.cpp
// file type and the bytes of each weight type (matrices in the requested type, the router and
// norms in f32).
TEST(Info, GgufFileOfLiteTiny) {
  test::TempDir tmp;
  const std::string gguf = tmp.file("lite-tiny.gguf");
  auto conv = test::run_dsv2({"convert", test::fixture("golden/lite-tiny/model"), gguf, "--type", "q8_0"});
  ASSERT_EQ(conv.exit_code, 0) << conv.err;
  auto r = test::run_dsv2({"info", "-m", gguf});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* s : {"layers         4 (1 dense, 3 MoE)", "16 routed, top-4, 2 shared, width 48",
                        "1280 bytes f32, 640 bytes bf16 (MLA: 4 layers x 80 values)", "file type      Q8_0\n",
                        "weights        f32 ", "q8_0 ", "file           lite-tiny.gguf  "})
    expect_has(r.out, s);
  // a llama-quantize mix is named as llama.cpp names it
  conv = test::run_dsv2({"quantize", gguf, tmp.file("m.gguf"), "--type", "q4_k_m", "--no-progress"});
  ASSERT_EQ(conv.exit_code, 0) << conv.err;
  r = test::run_dsv2({"info", "-m", tmp.file("m.gguf")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_has(r.out, "file type      Q4_K - Medium\n");
}

TEST(Info, LiteKvCacheIs576ValuesPerLayer) {
  const Config c = synth_preset("lite");
  const KvCachePerToken kv = kv_cache_per_token(c);
  EXPECT_EQ(kv.mla_values, 27 * 576);
  EXPECT_EQ(kv.mha_values, 27 * 16 * (192 + 128));
}

TEST(Info, ErrorsAreOneLine) {
  test::TempDir tmp;
  std::ofstream(tmp.file("bad.gguf")) << "not a GGUF file";
  for (const std::string& dir : {tmp.file("missing"), tmp.path(), tmp.file("bad.gguf")}) {
    auto r = test::run_dsv2({"info", "-m", dir});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find(dir), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

}  // namespace
}  // namespace dsv2::tools
