// Subcommands register themselves: each app/cmd_*.cpp defines a setup function that adds its
// CLI11 subcommand (flags only) and a callback that calls the library.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace dsv2::app {

using CommandSetup = void (*)(CLI::App& root);

struct CommandRegistry {
  static std::vector<std::pair<std::string, CommandSetup>>& all() {
    static std::vector<std::pair<std::string, CommandSetup>> commands;
    return commands;
  }
};

struct RegisterCommand {
  RegisterCommand(const char* name, CommandSetup setup) {
    CommandRegistry::all().emplace_back(name, setup);
  }
};

}  // namespace dsv2::app
