// Tokenizer::from_gguf: llama.cpp's tokenizer.ggml.* metadata. Token types 3 (control) and
// 4 (user-defined) are added tokens, matched in the raw text like HF's added_tokens (3 are the
// special ones); the pre-tokenizer comes from the table of known tokenizer.ggml.pre names.
#include "io/gguf.h"
#include "tokenizer/known_pretokenizers.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace dsv2 {

namespace {
constexpr std::int64_t kControl = 3, kUserDefined = 4;

std::vector<BpeModel::Merge> read_merges(const GgufFile& g) {
  std::vector<std::string_view> merges = g.get_string_array("tokenizer.ggml.merges");
  std::vector<BpeModel::Merge> out;
  out.reserve(merges.size());
  for (std::size_t r = 0; r < merges.size(); ++r) {
    std::size_t sp = merges[r].find(' ', 1);
    if (sp == std::string_view::npos) {
      throw Error(g.path() + ": tokenizer.ggml.merges #" + std::to_string(r) + " has no space");
    }
    out.push_back({std::string(merges[r].substr(0, sp)), std::string(merges[r].substr(sp + 1))});
  }
  return out;
}

PreTokenizer read_pre(const GgufFile& g) {
  const std::string name(g.get_string("tokenizer.ggml.pre"));
  auto spec = known_pre_tokenizer(name);
  if (!spec) {
    std::string known;
    for (const auto& n : known_pre_tokenizer_names()) known += (known.empty() ? "" : ", ") + n;
    throw Error(g.path() + ": tokenizer.ggml.pre '" + name + "' is not a known pre-tokenizer (known: " + known + ")");
  }
  return PreTokenizer::from_json(*spec, g.path() + ": tokenizer.ggml.pre " + name);
}

std::int32_t special_id(const GgufFile& g, const char* key, std::size_t n_tokens) {
  if (!g.has(key)) return -1;
  std::uint64_t id = g.get_uint(key);
  if (id >= n_tokens) throw Error(g.path() + ": " + key + " " + std::to_string(id) + " is past the vocabulary");
  return static_cast<std::int32_t>(id);
}
}  // namespace

Tokenizer Tokenizer::from_gguf(const GgufFile& g) {
  const std::string model(g.get_string("tokenizer.ggml.model"));
  if (model != "gpt2") {
    throw Error(g.path() + ": tokenizer.ggml.model '" + model + "' is not supported (only gpt2 byte-level BPE)");
  }
  std::vector<std::string_view> tokens = g.get_string_array("tokenizer.ggml.tokens");
  if (tokens.size() >= (1u << 30)) throw Error(g.path() + ": tokenizer.ggml.tokens is too large");
  std::vector<std::int64_t> types(tokens.size(), 1);
  if (g.has("tokenizer.ggml.token_type")) types = g.get_int_array("tokenizer.ggml.token_type");
  if (types.size() != tokens.size()) throw Error(g.path() + ": tokenizer.ggml.token_type and tokens differ in length");

  TokenizerParts p;
  std::vector<AddedToken> added;
  // BPE vocab: ordinary tokens first, so they win over an added token with the same text.
  std::vector<std::pair<std::string_view, std::int32_t>> pairs, added_pairs;
  for (std::size_t id = 0; id < tokens.size(); ++id) {
    p.token_text.emplace_back(tokens[id]);
    auto i = static_cast<std::int32_t>(id);
    if (types[id] == kControl || types[id] == kUserDefined) {
      added.push_back({i, std::string(tokens[id]), false, false, false, false, types[id] == kControl});
      added_pairs.emplace_back(tokens[id], i);
    } else {
      pairs.emplace_back(tokens[id], i);
    }
  }
  pairs.insert(pairs.end(), added_pairs.begin(), added_pairs.end());
  p.added = AddedTokens(std::move(added));
  p.bpe = std::make_unique<BpeModel>(pairs, read_merges(g), false, g.path());
  p.pre = read_pre(g);
  p.bos_id = special_id(g, "tokenizer.ggml.bos_token_id", tokens.size());
  p.eos_id = special_id(g, "tokenizer.ggml.eos_token_id", tokens.size());
  p.add_bos = g.get_bool("tokenizer.ggml.add_bos_token", false);
  p.chat_template = std::string(g.get_string("tokenizer.chat_template", ""));
  return Tokenizer(std::move(p));
}

}  // namespace dsv2
