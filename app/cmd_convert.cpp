// dsv2 convert: a Hugging Face checkpoint directory -> a llama.cpp deepseek2 GGUF file.
#include <memory>

#include "command.h"
#include "tools/convert.h"
#include "util/error.h"

namespace {

void setup_convert(CLI::App& root) {
  auto opt = std::make_shared<dsv2::tools::ConvertOptions>();
  auto type = std::make_shared<std::string>("f16");
  auto layout = std::make_shared<std::string>("mla");
  CLI::App* cmd = root.add_subcommand(
      "convert", "Convert a Hugging Face checkpoint directory to a llama.cpp deepseek2 GGUF file.\n"
                 "Norms and the MoE router stay f32; rows that do not fit the type's block fall back.");
  cmd->add_option("hf_dir", opt->hf_dir, "Hugging Face checkpoint directory")->required();
  cmd->add_option("out", opt->out, "Output .gguf file")->required();
  cmd->add_option("--type", *type, "f32, f16, bf16, q8_0, q4_0, q4_k, q5_k, q6_k, or a llama.cpp K-quant mix: q4_k_m, q4_k_s, q5_k_m, q5_k_s")->capture_default_str();
  cmd->add_option("--layout", *layout,
                  "mla: attn_k_b/attn_v_b (current llama.cpp); legacy: attn_kv_b")->capture_default_str();
  cmd->add_option("-t,--threads", opt->threads, "Quantizing threads (0: all cores)")->capture_default_str();
  cmd->add_flag("--no-progress", [opt](std::int64_t) { opt->progress = false; }, "No progress on stderr");
  cmd->callback([opt, type, layout] {
    opt->type = dsv2::tools::parse_file_type(*type);
    dsv2::check(*layout == "mla" || *layout == "legacy", "--layout must be mla or legacy, got '" + *layout + "'");
    opt->layout = *layout == "mla" ? dsv2::GgufLayout::Mla : dsv2::GgufLayout::Legacy;
    dsv2::tools::convert_to_gguf(*opt);
  });
}

const dsv2::app::RegisterCommand kConvert("convert", setup_convert);

}  // namespace
