// dsv2 quantize: a GGUF file -> the same model with another weight type.
#include <memory>

#include "command.h"
#include "tools/convert.h"

namespace {

void setup_quantize(CLI::App& root) {
  auto opt = std::make_shared<dsv2::tools::QuantizeOptions>();
  auto type = std::make_shared<std::string>();
  CLI::App* cmd = root.add_subcommand("quantize", "Re-type the weights of a GGUF file (metadata is copied).");
  cmd->add_option("in", opt->in, "Input .gguf file")->required();
  cmd->add_option("out", opt->out, "Output .gguf file")->required();
  cmd->add_option("--type", *type, "f32, f16, bf16, q8_0, q4_0, q4_k, q5_k, q6_k, or a llama.cpp K-quant mix: q4_k_m, q4_k_s, q5_k_m, q5_k_s")->required();
  cmd->add_option("-t,--threads", opt->threads, "Quantizing threads (0: all cores)")->capture_default_str();
  cmd->add_flag("--no-progress", [opt](std::int64_t) { opt->progress = false; }, "No progress on stderr");
  cmd->callback([opt, type] {
    opt->type = dsv2::tools::parse_file_type(*type);
    dsv2::tools::quantize_gguf(*opt);
  });
}

const dsv2::app::RegisterCommand kQuantize("quantize", setup_quantize);

}  // namespace
