// dsv2 convert / quantize: quantization fidelity on the trained tiny-coder model, the fallback
// rule, and the command lines (including `dsv2 run` on a GGUF file).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>

#include "generate/evaluate.h"
#include "io/gguf.h"
#include "model/deepseek_v2.h"
#include "support/fidelity.h"
#include "support/fixtures.h"
#include "support/golden.h"
#include "tools/convert.h"
#include "tools/gguf_output.h"
#include "util/error.h"

namespace dsv2::tools {
namespace {

// Loaded as `dsv2 run` loads it (into memory, Q4_0 / Q8_0 in the interleaved layout).
std::vector<float> logits_of(const std::string& path, const std::vector<std::int32_t>& ids) {
  DeepseekV2 model(Checkpoint::open(path, FileMode::Load), 2);
  return sequence_logits(model, ids, 0);
}

// The numbers in docs/benchmarks.md "Quantization fidelity" (bench/fidelity.sh prints them).
TEST(GgufFidelity, TinyCoderQuantizedAgreesWithF32) {
  const test::Golden g = test::load_golden("tiny-coder");
  test::TempDir d;
  convert_to_gguf({g.model_dir, d.file("f32.gguf"), DType::F32, GgufLayout::Mla, false});
  const std::vector<float> ref = logits_of(d.file("f32.gguf"), g.input_ids);
  std::printf("| type | top-1 agreement | mean KL(f32 || q) | file bytes |\n|---|---|---|---|\n");
  for (DType t : {DType::F16, DType::BF16, DType::Q8_0, DType::Q6_K, DType::Q5_K, DType::Q5_1, DType::Q5_0, DType::Q4_K,
                  DType::Q4_0}) {
    quantize_gguf({d.file("f32.gguf"), d.file("q.gguf"), t, false});
    const test::Fidelity f = test::compare_logits(ref, logits_of(d.file("q.gguf"), g.input_ids), g.vocab);
    std::printf("| %s | %.1f%% | %.2e | %zu |\n", std::string(dtype_name(t)).c_str(), 100 * f.top1, f.mean_kl,
                test::read_file(d.file("q.gguf")).size());
    if (dtype_is_quantized(t)) {  // the weights' error alone: the same values computed in f32
      quantize_gguf({d.file("q.gguf"), d.file("dq.gguf"), DType::F32, false});
      const test::Fidelity w = test::compare_logits(ref, logits_of(d.file("dq.gguf"), g.input_ids), g.vocab);
      std::printf("| %s weights, f32 compute | %.1f%% | %.2e | |\n", std::string(dtype_name(t)).c_str(),
                  100 * w.top1, w.mean_kl);
      if (t == DType::Q8_0) {  // issue 4's Q8_0 bar, on the weight format itself
        EXPECT_GE(w.top1, 0.99);
        EXPECT_LE(w.mean_kl, 1e-3);
      }
    }
    // Issue 4's Q8_0 bar end to end. Q8_0 kernels take 16-bit activations: with 8-bit ones (as
    // llama.cpp's), their rounding flipped 3 of the 143 near-tied positions (97.9% top-1).
    if (t == DType::Q8_0) {
      EXPECT_GE(f.top1, 0.99);
      EXPECT_LE(f.mean_kl, 1e-3);
    }
    if (t == DType::Q4_K) {
      EXPECT_GE(f.top1, 0.90);
      EXPECT_LE(f.mean_kl, 2e-2);
    }
  }
  // The legacy layout (one attn_kv_b) makes the model transpose W_UK into a q8_0 copy: a q8_0
  // file's W_UK is then rounded twice, and must still meet the bar.
  convert_to_gguf({g.model_dir, d.file("legacy.gguf"), DType::Q8_0, GgufLayout::Legacy, false});
  const test::Fidelity legacy = test::compare_logits(ref, logits_of(d.file("legacy.gguf"), g.input_ids), g.vocab);
  std::printf("| q8_0, legacy layout | %.1f%% | %.2e | |\n", 100 * legacy.top1, legacy.mean_kl);
  EXPECT_GE(legacy.top1, 0.99);
  EXPECT_LE(legacy.mean_kl, 1e-3);
}

// Tensors already of the target type are copied, not rounded a second time: quantizing a q8_0
// file to q8_0 reproduces it byte for byte, and q8_0 -> q4_k changes only what must change.
TEST(GgufQuantize, KeepsTensorsAlreadyOfTheTargetType) {
  const test::Golden g = test::load_golden("tiny-coder");
  test::TempDir d;
  convert_to_gguf({g.model_dir, d.file("a.gguf"), DType::Q8_0, GgufLayout::Mla, false});
  quantize_gguf({d.file("a.gguf"), d.file("b.gguf"), DType::Q8_0, false});
  EXPECT_EQ(test::read_file(d.file("a.gguf")), test::read_file(d.file("b.gguf")));
  quantize_gguf({d.file("a.gguf"), d.file("c.gguf"), DType::Q6_K, false});  // every row falls back to q8_0
  const GgufFile a(d.file("a.gguf")), c(d.file("c.gguf"));
  ASSERT_EQ(a.tensors().size(), c.tensors().size());
  for (std::size_t i = 0; i < a.tensors().size(); ++i) {
    const Tensor ta = a.tensor(a.tensors()[i]), tc = c.tensor(c.tensors()[i]);
    ASSERT_EQ(ta.dtype, tc.dtype) << a.tensors()[i].name;
    ASSERT_EQ(ta.nbytes(), tc.nbytes());
    EXPECT_EQ(0, std::memcmp(ta.data, tc.data, ta.nbytes())) << a.tensors()[i].name;
  }
}

TEST(GgufTensorType, NormsAndRouterStayF32AndShortRowsFallBack) {
  std::string note;
  EXPECT_EQ(gguf_tensor_type("blk.0.attn_norm.weight", {128}, DType::Q4_K, 4, &note), DType::F32);
  EXPECT_EQ(gguf_tensor_type("blk.1.ffn_gate_inp.weight", {16, 256}, DType::Q4_K, 4, &note), DType::F32);
  EXPECT_TRUE(note.empty());
  EXPECT_EQ(gguf_tensor_type("blk.1.ffn_up_exps.weight", {16, 48, 256}, DType::Q4_K, 4, &note), DType::Q4_K);
  // llama.cpp's fallbacks (Lite's 1408-wide down projections in Q4_K_M / Q5_K_M files)
  EXPECT_EQ(gguf_tensor_type("blk.1.ffn_up_exps.weight", {16, 48, 128}, DType::Q4_K, 4, &note), DType::Q5_0);
  EXPECT_EQ(note, "blk.1.ffn_up_exps.weight: row length 128 is not a multiple of 256, stored as q5_0 instead of q4_k");
  EXPECT_EQ(gguf_tensor_type("blk.1.ffn_up_exps.weight", {16, 48, 128}, DType::Q5_K, 4, &note), DType::Q5_1);
  EXPECT_EQ(gguf_tensor_type("blk.1.ffn_up_exps.weight", {16, 48, 128}, DType::Q6_K, 4, &note), DType::Q8_0);
  EXPECT_EQ(gguf_tensor_type("blk.1.ffn_up_exps.weight", {16, 48, 48}, DType::Q4_K, 4, &note), DType::F16);
  EXPECT_EQ(gguf_tensor_type("blk.1.ffn_down_exps.weight", {16, 128, 48}, DType::Q4_0, 4, &note), DType::F16);
}

// llama-quantize's K-quant mixes on DeepSeek-V2-Lite's shapes (27 layers): the output projection
// in Q6_K, the down projections of "more bits" layers (the first and last eighth, every third
// between) in Q6_K for _m, the first eighth's in Q5_K for q4_k_s; then the row-length fallbacks
// (1408-wide expert and 10944-wide dense down projections).
TEST(GgufTensorType, KQuantMixesFollowLlamaQuantize) {
  const FileType q4m = parse_file_type("Q4_K_M"), q4s = parse_file_type("q4_k_s");
  const FileType q5m = parse_file_type("q5_k_m"), q5s = parse_file_type("q5_k_s");
  auto type = [](const std::string& name, std::vector<std::int64_t> shape, FileType t) {
    return gguf_tensor_type(name, shape, t, 27, nullptr);
  };
  const std::vector<std::int64_t> out = {102400, 2048}, exps = {64, 2048, 1408}, shexp = {2048, 2816};
  EXPECT_EQ(type("output.weight", out, q4m), DType::Q6_K);
  EXPECT_EQ(type("output.weight", out, q5s), DType::Q6_K);
  EXPECT_EQ(type("output.weight", out, DType::Q4_K), DType::Q4_K);  // the plain name is pure
  EXPECT_EQ(type("token_embd.weight", out, q4m), DType::Q4_K);
  EXPECT_EQ(type("blk.5.attn_q.weight", {3072, 2048}, q4m), DType::Q4_K);
  EXPECT_EQ(type("blk.5.attn_k_b.weight", {16, 512, 128}, q4m), DType::Q5_0);
  EXPECT_EQ(type("blk.5.ffn_gate_exps.weight", {64, 1408, 2048}, q4m), DType::Q4_K);
  EXPECT_EQ(type("blk.0.ffn_down.weight", {2048, 10944}, q4m), DType::Q8_0);  // Q6_K, 10944 % 256 != 0
  for (int layer : {0, 1, 2, 5, 8, 20, 23, 26}) {
    const std::string blk = "blk." + std::to_string(layer) + ".";
    EXPECT_EQ(type(blk + "ffn_down_shexp.weight", shexp, q4m), DType::Q6_K) << layer;
    EXPECT_EQ(type(blk + "ffn_down_exps.weight", exps, q4m), DType::Q8_0) << layer;
    EXPECT_EQ(type(blk + "ffn_down_shexp.weight", shexp, q5m), DType::Q6_K) << layer;
  }
  for (int layer : {3, 4, 6, 7, 21, 22}) {
    const std::string blk = "blk." + std::to_string(layer) + ".";
    EXPECT_EQ(type(blk + "ffn_down_shexp.weight", shexp, q4m), DType::Q4_K) << layer;
    EXPECT_EQ(type(blk + "ffn_down_exps.weight", exps, q4m), DType::Q5_0) << layer;
    EXPECT_EQ(type(blk + "ffn_down_shexp.weight", shexp, q5m), DType::Q5_K) << layer;
    EXPECT_EQ(type(blk + "ffn_down_exps.weight", exps, q5m), DType::Q5_1) << layer;
  }
  EXPECT_EQ(type("blk.2.ffn_down_shexp.weight", shexp, q4s), DType::Q5_K);  // 2 < 27 / 8
  EXPECT_EQ(type("blk.2.ffn_down_exps.weight", exps, q4s), DType::Q5_1);
  EXPECT_EQ(type("blk.3.ffn_down_shexp.weight", shexp, q4s), DType::Q4_K);
  EXPECT_EQ(type("blk.2.ffn_down_shexp.weight", shexp, q5s), DType::Q5_K);
  EXPECT_EQ(type("blk.26.ffn_down_shexp.weight", shexp, q5s), DType::Q5_K);
  std::string note;
  gguf_tensor_type("blk.0.ffn_down_exps.weight", exps, q4m, 27, &note);
  EXPECT_EQ(note, "blk.0.ffn_down_exps.weight: row length 1408 is not a multiple of 256, stored as q8_0 instead of q6_k");
}

TEST(GgufTensorType, FileTypeNamesAndLlamaFileTypes) {
  for (const char* name : {"q4_k_m", "q4_k_s", "q5_k_m", "q5_k_s", "q4_k", "q8_0", "f16"})
    EXPECT_EQ(file_type_name(parse_file_type(name)), name);
  EXPECT_EQ(llama_file_type(parse_file_type("q4_k_s")), 14u);
  EXPECT_EQ(llama_file_type(parse_file_type("q4_k_m")), 15u);
  EXPECT_EQ(llama_file_type(parse_file_type("q5_k_s")), 16u);
  EXPECT_EQ(llama_file_type(parse_file_type("q5_k_m")), 17u);
  EXPECT_EQ(llama_file_type(DType::Q4_K), 14u);
  EXPECT_EQ(gguf_block_index("blk.26.ffn_down_exps.weight"), 26);
  EXPECT_EQ(gguf_block_index("output.weight"), -1);
  EXPECT_EQ(gguf_block_index("blk.x.ffn_down.weight"), -1);
  for (const char* bad : {"q6_k_m", "q4_0_m", "q4_k_l", "q4_k_"}) {
    std::string what;
    try {
      parse_file_type(bad);
    } catch (const Error& e) {
      what = e.what();
    }
    EXPECT_NE(what.find("--type must be one of"), std::string::npos) << bad;
    EXPECT_NE(what.find(bad), std::string::npos) << bad;
  }
}

TEST(GgufCli, ConvertQuantizeAndRun) {
  const test::Golden g = test::load_golden("tiny-coder");
  test::TempDir d;
  test::RunResult r = test::run_dsv2({"convert", g.model_dir, d.file("m.gguf"), "--type", "q4_k"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("stored as q5_0 instead of q4_k"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("convert: tensor 1/"), std::string::npos) << r.err;
  r = test::run_dsv2({"quantize", d.file("m.gguf"), d.file("km.gguf"), "--type", "q4_k_m"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // tiny-coder's 128-wide output rows: the mix's Q6_K falls back to Q8_0, and says so
  EXPECT_NE(r.err.find("output.weight: row length 128 is not a multiple of 256, stored as q8_0 instead of q6_k"),
            std::string::npos) << r.err;
  EXPECT_EQ(GgufFile(d.file("km.gguf")).get_uint("general.file_type"), 15u);
  r = test::run_dsv2({"quantize", d.file("m.gguf"), d.file("q.gguf"), "--type", "q8_0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // in place: the input stays readable while its replacement is written (GgufWriter's .part),
  // and the result is what quantizing it into another file gives
  r = test::run_dsv2({"quantize", d.file("km.gguf"), d.file("k8.gguf"), "--type", "q8_0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = test::run_dsv2({"quantize", d.file("km.gguf"), d.file("km.gguf"), "--type", "q8_0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(GgufFile(d.file("km.gguf")).get_uint("general.file_type"), 7u);
  EXPECT_EQ(test::read_file(d.file("km.gguf")), test::read_file(d.file("k8.gguf")));
  r = test::run_dsv2({"run", "-m", d.file("q.gguf"), "-p", "def main():", "-n", "4", "-t", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(r.out.empty());
  r = test::run_dsv2({"convert", g.model_dir, d.file("x.gguf"), "--type", "q3_k"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--type must be one of"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace dsv2::tools
