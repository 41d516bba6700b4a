// The byte-level BPE tokenizer of the DeepSeek-V2 family, equal to Hugging Face `tokenizers`
// on these files: added tokens are cut out of the raw text first, the rest is pre-tokenized
// (regex Splits, Digits, ByteLevel from the file) and each piece is BPE-encoded.
//
// Invalid UTF-8 input: HF only accepts Python str, so there is no reference behaviour for it.
// encode() replaces every ill-formed subsequence with U+FFFD first, exactly as
// bytes.decode("utf-8", errors="replace") would before calling HF, and encodes the result.
// Valid input (NUL bytes included) is encoded as is.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe.h"
#include "tokenizer/pretokenizer.h"

namespace dsv2 {

class GgufFile;
class StreamDecoder;

// Everything a tokenizer is made of; the loaders fill it in.
struct TokenizerParts {
  std::vector<std::string> token_text;  // by id, as in the file ("Ġthe"); "" for unused ids
  std::unique_ptr<BpeModel> bpe;
  AddedTokens added;
  PreTokenizer pre;
  std::int32_t bos_id = -1;
  std::int32_t eos_id = -1;
  bool add_bos = false;
  std::string chat_template;
};

class Tokenizer {
 public:
  // dir/tokenizer.json, plus dir/tokenizer_config.json when present.
  static Tokenizer from_hf_dir(const std::string& dir);
  // config_json may be "" (then BOS comes from the post-processor's template, if any).
  static Tokenizer from_hf_files(const std::string& tokenizer_json, const std::string& config_json = "");
  static Tokenizer from_gguf(const GgufFile& gguf);

  explicit Tokenizer(TokenizerParts parts);

  std::vector<std::int32_t> encode(std::string_view text, bool add_bos) const;
  std::vector<std::int32_t> encode(std::string_view text) const { return encode(text, add_bos()); }
  // Concatenated token bytes, ill-formed UTF-8 replaced by U+FFFD (as HF's ByteLevel decoder).
  // Throws Error for an id outside [0, vocab_size()).
  std::string decode(std::span<const std::int32_t> ids, bool skip_special = false) const;
  StreamDecoder stream_decoder(bool skip_special = false) const;

  const std::string& token_text(std::int32_t id) const;   // as stored in the vocab
  const std::string& token_bytes(std::int32_t id) const;  // what decoding the id emits
  std::optional<std::int32_t> find_added_token(std::string_view content) const;
  bool is_special(std::int32_t id) const;

  std::int32_t bos_id() const { return parts_.bos_id; }  // -1 if none
  std::int32_t eos_id() const { return parts_.eos_id; }  // -1 if none
  std::size_t vocab_size() const { return parts_.token_text.size(); }
  const std::string& chat_template() const { return parts_.chat_template; }
  bool add_bos() const { return parts_.add_bos; }

 private:
  void check_id(std::int32_t id) const;
  void encode_text(std::string_view text, std::vector<std::int32_t>& out) const;

  TokenizerParts parts_;
  std::vector<std::string> token_bytes_;
  std::vector<bool> special_;
};

// Opens the tokenizer of a model path: an HF directory (tokenizer.json inside), a
// tokenizer.json file, or a .gguf file. Throws Error naming the path.
Tokenizer open_tokenizer(const std::string& model_path);

}  // namespace dsv2
