// llama.cpp's tokenizer regression vectors (tests/test-tokenizer-0): the .inp cases are joined
// by "\n__ggml_vocab_test__\n" and each .out line holds the ids HF produced with
// add_special_tokens=False, so we encode without BOS.
#include <gtest/gtest.h>

#include <sstream>

#include "tokenizer_cache.h"

namespace dsv2::test {
namespace {

struct Case {
  std::string text;
  std::vector<std::int32_t> ids;
};

std::vector<Case> load_cases(const std::string& name) {
  const std::string base = fixture("llama-cpp-vocab/ggml-vocab-" + name + ".gguf");
  const std::string inp = read_file(base + ".inp"), out = read_file(base + ".out");
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  for (std::size_t pos = 0; pos < inp.size();) {
    std::size_t next = inp.find(sep, pos);
    if (next == std::string::npos) next = inp.size();
    texts.push_back(inp.substr(pos, next - pos));
    pos = next + sep.size();
  }
  std::vector<Case> cases;
  std::istringstream lines(out);
  std::string line;
  for (const auto& t : texts) {
    if (!std::getline(lines, line)) break;
    Case c{t, {}};
    std::istringstream ids(line);
    for (std::int32_t id; ids >> id;) c.ids.push_back(id);
    cases.push_back(std::move(c));
  }
  EXPECT_EQ(cases.size(), texts.size()) << name << ": .inp and .out disagree on the number of cases";
  return cases;
}

void expect_all_cases(const Tokenizer& tok, const std::string& vectors) {
  auto cases = load_cases(vectors);
  ASSERT_GE(cases.size(), 40u);
  for (const auto& c : cases) {
    EXPECT_EQ(tok.encode(c.text, false), c.ids) << "input: '" << c.text << "'";
    EXPECT_EQ(tok.decode(c.ids), c.text) << "decode of input: '" << c.text << "'";
  }
}

TEST(LlamaCppVectors, DeepseekLlmFromGguf) { expect_all_cases(gguf_tokenizer("deepseek-llm"), "deepseek-llm"); }
TEST(LlamaCppVectors, DeepseekCoderFromGguf) { expect_all_cases(gguf_tokenizer("deepseek-coder"), "deepseek-coder"); }
// DeepSeek-V2's tokenizer.json has the same BPE and pre-tokenizer as deepseek-llm.
TEST(LlamaCppVectors, DeepseekLlmFromV2TokenizerJson) { expect_all_cases(v2_tokenizer(), "deepseek-llm"); }

}  // namespace
}  // namespace dsv2::test
