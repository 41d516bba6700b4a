// dsv2 run: complete a prompt, streaming the new text to stdout.
#include <iostream>
#include <iterator>

#include "generation_flags.h"
#include "io/mapped_file.h"

namespace dsv2::app {
namespace {

struct RunOptions {
  GenerationFlags gen;
  std::string prompt, prompt_file;
};

// The prompt's bytes exactly as given: -p TEXT, -f FILE, or -f - for stdin.
std::string read_prompt(const std::string& text, const std::string& file) {
  if (file.empty()) return text;
  if (file == "-") return std::string(std::istreambuf_iterator<char>(std::cin), {});
  return read_text_file(file);
}

void run(const RunOptions& o) {
  LoadedModel m(o.gen);
  const std::string text = read_prompt(o.prompt, o.prompt_file);
  auto ids = m.tokenizer.encode(text, m.tokenizer.add_bos() && !o.gen.no_bos);
  stream_to_stdout(m, m.request(o.gen, std::move(ids)), o.gen.verbose);
  std::cout << std::endl;
}

void setup(CLI::App& root) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = root.add_subcommand("run", "Complete a prompt (streams the continuation to stdout)");
  o->gen.add_to(cmd);
  auto* p = cmd->add_option("-p,--prompt", o->prompt, "Prompt text");
  cmd->add_option("-f,--file", o->prompt_file, "Read the prompt from a file ('-' = stdin)")->excludes(p);
  cmd->callback([o] { run(*o); });
}

RegisterCommand reg("run", setup);

}  // namespace

}  // namespace dsv2::app
