// dsv2 synth: a random-weight checkpoint with a real DeepSeek-V2 architecture.
#include <memory>

#include "command.h"
#include "tensor/dtype.h"
#include "tools/convert.h"
#include "tools/synth.h"
#include "util/error.h"

namespace {

void setup(CLI::App& root) {
  auto opt = std::make_shared<dsv2::tools::SynthOptions>();
  auto dtype = std::make_shared<std::string>("bf16");
  CLI::App* cmd = root.add_subcommand(
      "synth",
      "Write a Hugging Face checkpoint with random weights and a real DeepSeek-V2 architecture.\n"
      "Presets: tiny (Lite architecture at small dims, full vocabulary, ~27 MB in bf16);\n"
      "lite (exactly DeepSeek-V2-Lite / Coder-V2-Lite: 15.7B parameters, ~31 GB in bf16);\n"
      "v2 (the 236B architecture at small dims: query LoRA, group-limited routing, scaling 16;\n"
      "the real 236B would be 472 GB in bf16, beyond any machine dsv2 targets).");
  // Preset and dtype are validated after parsing, not by CLI11 validators, so that a bad value
  // gets dsv2's usual one-line error.
  cmd->add_option("--preset", opt->preset, "tiny, lite or v2")->capture_default_str();
  cmd->add_option("-o,--output", opt->out_dir,
                  "Output directory (created if missing), or a .gguf file (llama.cpp deepseek2)")->required();
  auto gguf_type = std::make_shared<std::string>("f16");
  cmd->add_option("--type", *gguf_type, "GGUF output: f32, f16, bf16, q8_0, q4_0, q4_k, q5_k, q6_k, or a llama.cpp K-quant mix: q4_k_m, q4_k_s, q5_k_m, q5_k_s")
      ->capture_default_str();
  cmd->add_option("--dtype", *dtype, "Weight dtype: f32 or bf16")->capture_default_str();
  cmd->add_option("--seed", opt->generate.seed, "Random seed (same seed, same bytes)")
      ->capture_default_str();
  cmd->add_option("--shard-size", opt->max_shard_bytes, "Largest shard, e.g. 5GB or 500MB")
      ->transform(CLI::AsSizeValue(/*kb_is_1000=*/true))
      ->default_str("5GB");
  cmd->add_option("-t,--threads", opt->generate.threads, "Generating and quantizing threads (0: all cores)")
      ->capture_default_str();
  cmd->add_flag("--force", opt->force, "Write into a non-empty output directory");
  cmd->callback([opt, dtype, gguf_type] {
    opt->gguf_type = dsv2::tools::parse_file_type(*gguf_type);
    dsv2::check(*dtype == "f32" || *dtype == "bf16",
                "synth: --dtype must be f32 or bf16, got '" + *dtype + "'");
    dsv2::dtype_from_name(*dtype, &opt->generate.dtype);
    dsv2::tools::synth(*opt);
  });
}

const dsv2::app::RegisterCommand kRegister("synth", setup);

}  // namespace
