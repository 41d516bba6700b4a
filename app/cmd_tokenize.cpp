// dsv2 tokenize / detokenize: text <-> token ids with a model's tokenizer (an HF directory,
// a tokenizer.json or a .gguf).
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>

#include "command.h"
#include "io/mapped_file.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace {

struct TokenizeArgs {
  std::string model, prompt, file, ids;
  bool no_bos = false;
};

// The file's bytes exactly as they are ("-" = stdin): no newline is stripped or added.
std::string read_input(const std::string& file) {
  if (file != "-") return dsv2::read_text_file(file);
  std::cin >> std::noskipws;
  return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
}

void run_tokenize(const TokenizeArgs& a) {
  const dsv2::Tokenizer tok = dsv2::open_tokenizer(a.model);
  const std::string text = a.file.empty() ? a.prompt : read_input(a.file);
  std::string line;
  for (std::int32_t id : tok.encode(text, tok.add_bos() && !a.no_bos)) {
    if (!line.empty()) line += ' ';
    line += std::to_string(id);
  }
  std::printf("%s\n", line.c_str());
}

// "1,2,3" or "1 2 3" (any mix of commas and whitespace).
std::vector<std::int32_t> parse_ids(const std::string& s) {
  std::vector<std::int32_t> ids;
  std::size_t pos = 0;
  while (pos < s.size()) {
    if (s[pos] == ',' || std::isspace(static_cast<unsigned char>(s[pos]))) {
      ++pos;
      continue;
    }
    std::size_t end = s.find_first_of(", \t\n\r", pos);
    if (end == std::string::npos) end = s.size();
    const std::string tok = s.substr(pos, end - pos);
    std::size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(tok, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != tok.size() || v < 0 || v > INT32_MAX) throw dsv2::Error("--ids: '" + tok + "' is not a token id");
    ids.push_back(static_cast<std::int32_t>(v));
    pos = end;
  }
  return ids;
}

void run_detokenize(const TokenizeArgs& a) {
  const dsv2::Tokenizer tok = dsv2::open_tokenizer(a.model);
  const std::string text = tok.decode(parse_ids(a.ids));
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::printf("\n");
}

void setup_tokenize(CLI::App& root) {
  auto args = std::make_shared<TokenizeArgs>();
  CLI::App* cmd = root.add_subcommand("tokenize", "Print the token ids of a text");
  cmd->add_option("-m,--model", args->model, "HF model directory, tokenizer.json or .gguf")->required();
  auto* p = cmd->add_option("-p,--prompt", args->prompt, "the text");
  auto* f = cmd->add_option("-f,--file", args->file, "read the text from a file ('-' = stdin), bytes as they are");
  p->excludes(f);
  cmd->add_flag("--no-bos", args->no_bos, "do not prepend BOS");
  cmd->callback([args, cmd] {
    if (cmd->count("-p") + cmd->count("-f") == 0) throw dsv2::Error("tokenize: give -p TEXT or -f FILE");
    run_tokenize(*args);
  });
}

void setup_detokenize(CLI::App& root) {
  auto args = std::make_shared<TokenizeArgs>();
  CLI::App* cmd = root.add_subcommand("detokenize", "Print the text of token ids");
  cmd->add_option("-m,--model", args->model, "HF model directory, tokenizer.json or .gguf")->required();
  cmd->add_option("--ids", args->ids, "ids separated by commas or spaces")->required();
  cmd->callback([args] { run_detokenize(*args); });
}

const dsv2::app::RegisterCommand kTokenize("tokenize", setup_tokenize);
const dsv2::app::RegisterCommand kDetokenize("detokenize", setup_detokenize);

}  // namespace
