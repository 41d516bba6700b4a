// Shared, lazily loaded tokenizers for the tests (loading a 100k vocab takes a moment).
#pragma once
#include <map>
#include <memory>
#include <string>

#include "io/gguf.h"
#include "support/fixtures.h"
#include "tokenizer/tokenizer.h"

namespace dsv2::test {

inline const Tokenizer& v2_tokenizer() {  // deepseek-v2 tokenizer.json + tokenizer_config.json
  static const Tokenizer tok = Tokenizer::from_hf_dir(fixture("tokenizer/deepseek-v2"));
  return tok;
}
inline const Tokenizer& gguf_tokenizer(const std::string& name) {  // "deepseek-llm" / "deepseek-coder"
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  auto& slot = cache[name];
  if (!slot) {
    GgufFile g(fixture("llama-cpp-vocab/ggml-vocab-" + name + ".gguf"));
    slot = std::make_unique<Tokenizer>(Tokenizer::from_gguf(g));
  }
  return *slot;
}

}  // namespace dsv2::test
