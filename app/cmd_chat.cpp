// dsv2 chat: an interactive multi-turn chat through the model's chat template. The engine keeps
// the conversation's KV cache between turns and reuses its longest common prefix, so each turn
// computes only the new tokens.
#include <unistd.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "generate/prompt.h"
#include "generation_flags.h"
#include "util/error.h"

namespace dsv2::app {
namespace {

struct ChatOptions {
  GenerationFlags gen;
  std::string system;
};

void run(const ChatOptions& o) {
  LoadedModel m(o.gen);
  nlohmann::json messages = nlohmann::json::array();
  if (!o.system.empty()) messages.push_back({{"role", "system"}, {"content", o.system}});
  const bool interactive = ::isatty(STDIN_FILENO);
  if (interactive) std::cerr << "dsv2 chat — type a message, /reset to start over, Ctrl-D to quit\n";
  std::string line;
  for (;;) {
    if (interactive) std::cerr << "> " << std::flush;
    if (!std::getline(std::cin, line)) break;
    if (line == "/reset") {
      messages.erase(messages.begin() + (o.system.empty() ? 0 : 1), messages.end());
      continue;
    }
    if (line.empty()) continue;
    messages.push_back({{"role", "user"}, {"content", line}});
    // The template writes BOS itself: encode without adding another.
    auto ids = m.tokenizer.encode(render_chat(m.tokenizer, messages, true), false);
    std::string reply;
    GenerationEvent last = m.engine.generate(m.request(o.gen, std::move(ids)), [&](const GenerationEvent& e) {
      std::cout << e.text << std::flush;
      reply += e.text;
      return true;
    });
    if (last.finish == FinishReason::Error) throw dsv2::Error(last.error);
    std::cout << std::endl;
    if (o.gen.verbose)
      std::cerr << "[" << last.usage.cached_tokens << " of " << last.usage.prompt_tokens
                << " prompt tokens reused from the cache]\n";
    // The reference template writes "Assistant: " + content; the model's reply starts after "Assistant:".
    if (!reply.empty() && reply.front() == ' ') reply.erase(0, 1);
    messages.push_back({{"role", "assistant"}, {"content", reply}});
  }
}

void setup(CLI::App& root) {
  auto o = std::make_shared<ChatOptions>();
  CLI::App* cmd = root.add_subcommand("chat", "Interactive chat using the model's chat template");
  o->gen.add_to(cmd);
  cmd->add_option("--system", o->system, "System prompt");
  cmd->callback([o] { run(*o); });
}

RegisterCommand reg("chat", setup);

}  // namespace
}  // namespace dsv2::app
