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
  EXPECT_EQ(gguf_tensor_type("blk.0.attn_norm.weight", {128}, DType::Q4_K, &note), DType::F32);
  EXPECT_EQ(gguf_tensor_type("blk.1.ffn_gate_inp.weight", {16, 256}, DType::Q4_K, &note), DType::F32);
  EXPECT_TRUE(note.empty());
  EXPECT_EQ(gguf_tensor_type("blk.1.ffn_up_exps.weight", {16, 48, 256}, DType::Q4_K, &note), DType::Q4_K);
  // llama.cpp's fallbacks (Lite's 1408-wide down projections in Q4_K_M / Q5_K_M files)
  EXPECT_EQ(gguf_tensor_type("blk.1.ffn_up_exps.weight", {16, 48, 128}, DType::Q4_K, &note), DType::Q5_0);
  EXPECT_EQ(note, "blk.1.ffn_up_exps.weight: row length 128 is not a multiple of 256, stored as q5_0 instead of q4_k");
  EXPECT_EQ(gguf_tensor_type("blk.1.ffn_up_exps.weight", {16, 48, 128}, DType::Q5_K, &note), DType::Q5_1);
  EXPECT_EQ(gguf_tensor_type("blk.1.ffn_up_exps.weight", {16, 48, 128}, DType::Q6_K, &note), DType::Q8_0);
  EXPECT_EQ(gguf_tensor_type("blk.1.ffn_up_exps.weight", {16, 48, 48}, DType::Q4_K, &note), DType::F16);
  EXPECT_EQ(gguf_tensor_type("blk.1.ffn_down_exps.weight", {16, 128, 48}, DType::Q4_0, &note), DType::F16);
}

TEST(GgufCli, ConvertQuantizeAndRun) {
  const test::Golden g = test::load_golden("tiny-coder");
  test::TempDir d;
  test::RunResult r = test::run_dsv2({"convert", g.model_dir, d.file("m.gguf"), "--type", "q4_k"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("stored as q5_0 instead of q4_k"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("convert: tensor 1/"), std::string::npos) << r.err;
  r = test::run_dsv2({"quantize", d.file("m.gguf"), d.file("q.gguf"), "--type", "q8_0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = test::run_dsv2({"run", "-m", d.file("q.gguf"), "-p", "def main():", "-n", "4", "-t", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(r.out.empty());
  r = test::run_dsv2({"convert", g.model_dir, d.file("x.gguf"), "--type", "q3_k"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--type must be one of"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace dsv2::tools
