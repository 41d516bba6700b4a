// dsv2: one binary, many subcommands. This file only dispatches; each subcommand lives in its
// own app/cmd_*.cpp and calls into the library.
#include <algorithm>
#include <cstdio>
#include <exception>

#include "command.h"
#include "util/error.h"

int main(int argc, char** argv) {
  CLI::App root{"dsv2 — run, serve and shrink DeepSeek-V2-family models on your own machine"};
  root.require_subcommand(1);
  auto& commands = dsv2::app::CommandRegistry::all();
  std::sort(commands.begin(), commands.end());
  for (auto& [name, setup] : commands) setup(root);
  try {
    root.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return root.exit(e);
  } catch (const dsv2::Error& e) {
    std::fprintf(stderr, "dsv2: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dsv2: internal error: %s\n", e.what());
    return 2;
  }
  return 0;
}
