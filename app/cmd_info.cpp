// dsv2 info: architecture, parameter counts, KV cache size and files of a model directory.
#include <cstdio>
#include <memory>

#include "command.h"
#include "tools/info.h"

namespace {

void setup(CLI::App& root) {
  auto dir = std::make_shared<std::string>();
  CLI::App* cmd = root.add_subcommand(
      "info", "Describe a Hugging Face model directory from its config.json (no weights are read)");
  cmd->add_option("-m,--model", *dir, "Model directory")->required();
  cmd->callback([dir] { std::fputs(dsv2::tools::model_info(*dir).c_str(), stdout); });
}

const dsv2::app::RegisterCommand kRegister("info", setup);

}  // namespace
