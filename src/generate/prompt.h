// Prompt formats of the DeepSeek-V2 family (reference doc §7): fill-in-the-middle and chat.
// Special token ids are looked up in the tokenizer's added tokens, never hard-coded.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace dsv2 {

class Tokenizer;

struct FimTokens {
  std::int32_t begin = -1, hole = -1, end = -1;
};
// The three FIM tokens, or nullopt when the tokenizer lacks any (so callers can answer
// "does not support insertion" without an exception).
std::optional<FimTokens> find_fim_tokens(const Tokenizer& tok);

// <｜fim▁begin｜>prefix<｜fim▁hole｜>suffix<｜fim▁end｜> (PSM order), BOS first if add_bos.
// Throws Error "model does not support insertion" when the tokenizer has no FIM tokens.
std::vector<std::int32_t> fim_prompt(const Tokenizer& tok, std::string_view prefix, std::string_view suffix,
                                     bool add_bos);
// Tokens that end an infill: EOS and the FIM tokens themselves.
std::vector<std::int32_t> fim_stop_tokens(const Tokenizer& tok);
// The tokenizer's chat template applied to messages ([{role, content}, ...]).
std::string render_chat(const Tokenizer& tok, const nlohmann::json& messages, bool add_generation_prompt);
// render_chat encoded; the template writes BOS as text, so no second BOS is added.
std::vector<std::int32_t> chat_prompt(const Tokenizer& tok, const nlohmann::json& messages, bool add_generation_prompt);

}  // namespace dsv2
