// Prompt building shared by the CLI (infill, chat) and the server: fill-in-the-middle prompts
// and chat prompts through the model's own template (reference doc §7).
//
// FIM special tokens are looked up among the tokenizer's added tokens by their text, never by
// hard-coded ids, so a tokenizer without them is reported instead of producing garbage.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsv2 {

class Tokenizer;

struct FimTokens {
  std::int32_t begin = -1, hole = -1, end = -1;
};

// The three FIM tokens, or nullopt when the tokenizer lacks any of them.
std::optional<FimTokens> find_fim_tokens(const Tokenizer& tok);

// <｜fim▁begin｜>{prefix}<｜fim▁hole｜>{suffix}<｜fim▁end｜>, BOS first when add_bos.
// Throws Error("model does not support insertion") without FIM tokens.
std::vector<std::int32_t> fim_prompt(const Tokenizer& tok, std::string_view prefix,
                                     std::string_view suffix, bool add_bos);

// Where an infill ends: EOS and every FIM token (a model that starts another FIM block is done).
std::vector<std::int32_t> fim_stop_tokens(const Tokenizer& tok);

// Renders messages ([{role, content}]) with the tokenizer's chat template. The template writes
// BOS as text, so encode the result with add_bos = false. Throws Error when the tokenizer has
// no template or the template rejects the messages.
std::string render_chat(const Tokenizer& tok, const nlohmann::json& messages, bool add_generation_prompt);

// render_chat, encoded (BOS comes from the template, not added again).
std::vector<std::int32_t> chat_prompt(const Tokenizer& tok, const nlohmann::json& messages,
                                      bool add_generation_prompt);

}  // namespace dsv2
