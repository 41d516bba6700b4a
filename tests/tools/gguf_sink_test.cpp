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

}  // namespace
}  // namespace dsv2::tools
