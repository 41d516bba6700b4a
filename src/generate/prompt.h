// Prompt formats of the DeepSeek-V2 family (reference doc §7): fill-in-the-middle and chat.
// Special token ids are looked up in the tokenizer's added tokens, never hard-coded.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace dsv2 {

class Tokenizer;

// <｜fim▁begin｜>prefix<｜fim▁hole｜>suffix<｜fim▁end｜> (PSM order), BOS first if add_bos.
// Throws Error "model does not support insertion" when the tokenizer has no FIM tokens.
std::vector<std::int32_t> fim_prompt(const Tokenizer& tok, std::string_view prefix, std::string_view suffix,
                                     bool add_bos);
// Tokens that end an infill: EOS and the FIM tokens themselves.
std::vector<std::int32_t> fim_stop_tokens(const Tokenizer& tok);
// The tokenizer's chat template applied to messages ([{role, content}, ...]).
std::string render_chat(const Tokenizer& tok, const nlohmann::json& messages, bool add_generation_prompt);

}  // namespace dsv2
