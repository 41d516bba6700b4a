// dsv2 infill: fill-in-the-middle. The model writes what belongs between a prefix and a suffix.
#include <iostream>

#include "generate/prompt.h"
#include "generation_flags.h"
#include "io/mapped_file.h"
#include "util/error.h"

namespace dsv2::app {
namespace {

struct InfillOptions {
  GenerationFlags gen;
  std::string prefix, suffix, file;
  std::int64_t line = 0;
};

// Splits a file at the start of 1-based line `line`: the hole goes before that line.
std::pair<std::string, std::string> split_at_line(const std::string& text, std::int64_t line,
                                                  const std::string& path) {
  check(line >= 1, "--line must be 1 or more");
  std::size_t pos = 0;
  for (std::int64_t l = 1; l < line; ++l) {  // line = (lines in file) + 1 puts the hole at the end
    check(pos < text.size(), path + ": has fewer than " + std::to_string(line - 1) + " lines");
    const std::size_t nl = text.find('\n', pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
  }
  return {text.substr(0, pos), text.substr(pos)};
}

void run(InfillOptions o) {
  if (!o.file.empty()) {
    check(o.line > 0, "--file needs --line N (the hole goes before line N)");
    std::tie(o.prefix, o.suffix) = split_at_line(read_text_file(o.file), o.line, o.file);
  }
  LoadedModel m(o.gen);
  auto ids = fim_prompt(m.tokenizer, o.prefix, o.suffix, m.tokenizer.add_bos() && !o.gen.no_bos);
  GenerationRequest req = m.request(o.gen, std::move(ids));
  for (std::int32_t t : fim_stop_tokens(m.tokenizer)) req.stop_tokens.push_back(t);
  stream_to_stdout(m, std::move(req), o.gen.verbose);
  std::cout << std::endl;
}

void setup(CLI::App& root) {
  auto o = std::make_shared<InfillOptions>();
  CLI::App* cmd = root.add_subcommand("infill", "Fill in the middle between --prefix and --suffix");
  o->gen.add_to(cmd);
  auto* pre = cmd->add_option("--prefix", o->prefix, "Text before the hole");
  auto* suf = cmd->add_option("--suffix", o->suffix, "Text after the hole");
  auto* file = cmd->add_option("--file", o->file, "A source file to fill in (with --line)")->excludes(pre)->excludes(suf);
  cmd->add_option("--line", o->line, "With --file: the hole goes before this 1-based line")->needs(file);
  cmd->callback([o] { run(*o); });
}

RegisterCommand reg("infill", setup);

}  // namespace
}  // namespace dsv2::app
