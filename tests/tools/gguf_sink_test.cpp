// synth straight to GGUF: the quantizing sink writes exactly what converting the same weights
// from a Hugging Face directory writes, however the generator's windows cut the rows.
#include <gtest/gtest.h>

#include <filesystem>

#include "generate/evaluate.h"
#include "model/deepseek_v2.h"
#include "support/checkpoint_writer.h"
#include "support/fixtures.h"
#include "tools/convert.h"
#include "tools/synth.h"

namespace dsv2::tools {
namespace {

std::vector<float> logits_of(const std::string& path) {
  DeepseekV2 model(Checkpoint::open(path), 1);
  return sequence_logits(model, {1, 5, 9, 2, 33}, 0);
}

TEST(GgufSink, SynthToGgufEqualsConvertingTheHfCheckpoint) {
  const Config c = Config::from_json(test::micro_config_json(), "micro");
  test::TempDir d;
  GenerateOptions gen;
  gen.dtype = DType::F32;
  gen.window = 1000;  // not a multiple of any row length: rows arrive in pieces
  std::filesystem::create_directories(d.file("hf"));
  for (DType t : {DType::Q8_0, DType::F16}) {
    auto gguf = make_gguf_sink(d.file("synth.gguf"), c, t, "");
    write_random_checkpoint(c, gen, *gguf);
    auto hf = make_hf_sink(d.file("hf"), c, 1 << 30);
    write_random_checkpoint(c, gen, *hf);
    convert_to_gguf({d.file("hf"), d.file("conv.gguf"), t, GgufLayout::Legacy, false});
    EXPECT_EQ(logits_of(d.file("synth.gguf")), logits_of(d.file("conv.gguf"))) << dtype_name(t);
  }
}

// Rows are quantized over the sink's threads; each row alone, so one thread or two write the same
// bytes (a model wide enough for K-quants, as a Q4_K_M mix: Q4_K, Q6_K and fallback rows).
TEST(GgufSink, QuantizingThreadsDoNotChangeTheBytes) {
  Config c = synth_preset("tiny");
  c.hidden_size = 256, c.moe_intermediate_size = 256, c.intermediate_size = 512, c.vocab_size = 512;
  test::TempDir d;
  GenerateOptions gen;
  gen.dtype = DType::F32;
  for (const auto& [threads, file] : {std::pair{1, "t1.gguf"}, std::pair{2, "t2.gguf"}}) {
    auto sink = make_gguf_sink(d.file(file), c, parse_file_type("q4_k_m"), "", threads);
    write_random_checkpoint(c, gen, *sink);
  }
  const std::string one = test::read_file(d.file("t1.gguf"));
  EXPECT_GT(one.size(), 1000000u);
  EXPECT_EQ(one, test::read_file(d.file("t2.gguf")));
}

}  // namespace
}  // namespace dsv2::tools
