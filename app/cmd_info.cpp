// dsv2 info: architecture, parameter counts, KV cache size and files of a model.
#include <cstdio>
#include <memory>

#include "command.h"
#include "tools/info.h"

namespace {

void setup(CLI::App& root) {
  auto dir = std::make_shared<std::string>();
  CLI::App* cmd = root.add_subcommand(
      "info", "Describe a model from its config.json or GGUF header (no weights are read)");
  cmd->add_option("-m,--model", *dir, "Hugging Face model directory or GGUF file")->required();
  cmd->callback([dir] { std::fputs(dsv2::tools::model_info(*dir).c_str(), stdout); });
}

const dsv2::app::RegisterCommand kRegister("info", setup);

}  // namespace
