#include "generate/prompt.h"

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>

#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace dsv2 {

namespace {

const char* const kFimBegin = "<｜fim▁begin｜>";
const char* const kFimHole = "<｜fim▁hole｜>";
const char* const kFimEnd = "<｜fim▁end｜>";

std::int32_t fim_token(const Tokenizer& tok, const char* content) {
  auto id = tok.find_added_token(content);
  check(id.has_value(), std::string("model does not support insertion (fill-in-the-middle): its tokenizer has no ") +
                            content + " token");
  return *id;
}

// Parsing a template costs more than rendering it, and the server renders the same one for
// every chat request: keep parsed templates by source text.
const ChatTemplate& cached_template(const std::string& source) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<ChatTemplate>> cache;
  std::lock_guard lock(mu);
  auto& slot = cache[source];
  if (!slot) slot = std::make_unique<ChatTemplate>(source);
  return *slot;
}

}  // namespace

std::optional<FimTokens> find_fim_tokens(const Tokenizer& tok) {
  auto begin = tok.find_added_token(kFimBegin), hole = tok.find_added_token(kFimHole),
       end = tok.find_added_token(kFimEnd);
  if (!begin || !hole || !end) return std::nullopt;
  return FimTokens{*begin, *hole, *end};
}

std::vector<std::int32_t> fim_prompt(const Tokenizer& tok, std::string_view prefix, std::string_view suffix,
                                     bool add_bos) {
  const std::int32_t begin = fim_token(tok, kFimBegin), hole = fim_token(tok, kFimHole), end = fim_token(tok, kFimEnd);
  // Encoding the pieces separately equals encoding the concatenated string, as the reference
  // does: added tokens split the text before pre-tokenization anyway.
  std::vector<std::int32_t> ids;
  if (add_bos && tok.bos_id() >= 0) ids.push_back(tok.bos_id());
  ids.push_back(begin);
  auto pre = tok.encode(prefix, false);
  ids.insert(ids.end(), pre.begin(), pre.end());
  ids.push_back(hole);
  auto suf = tok.encode(suffix, false);
  ids.insert(ids.end(), suf.begin(), suf.end());
  ids.push_back(end);
  return ids;
}

std::vector<std::int32_t> fim_stop_tokens(const Tokenizer& tok) {
  std::vector<std::int32_t> ids;
  if (tok.eos_id() >= 0) ids.push_back(tok.eos_id());
  for (const char* t : {kFimBegin, kFimHole, kFimEnd})
    if (auto id = tok.find_added_token(t)) ids.push_back(*id);
  return ids;
}

std::string render_chat(const Tokenizer& tok, const nlohmann::json& messages, bool add_generation_prompt) {
  check(!tok.chat_template().empty(), "the model has no chat template (tokenizer_config.json chat_template)");
  const auto text_of = [&](std::int32_t id) { return id >= 0 ? tok.token_text(id) : std::string(); };
  const ChatTemplate& tmpl = cached_template(tok.chat_template());
  return tmpl.render(messages, add_generation_prompt, text_of(tok.bos_id()), text_of(tok.eos_id()));
}

std::vector<std::int32_t> chat_prompt(const Tokenizer& tok, const nlohmann::json& messages, bool add_generation_prompt) {
  return tok.encode(render_chat(tok, messages, add_generation_prompt), false);
}

}  // namespace dsv2
