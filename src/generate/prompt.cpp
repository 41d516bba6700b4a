#include "generate/prompt.h"

#include <map>
#include <memory>
#include <mutex>

#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace dsv2 {
namespace {

// U+FF5C fullwidth bars and U+2581 lower blocks, as in tokenizer.json.
constexpr std::string_view kFimBegin = "<\xEF\xBD\x9C" "fim\xE2\x96\x81" "begin\xEF\xBD\x9C>";
constexpr std::string_view kFimHole = "<\xEF\xBD\x9C" "fim\xE2\x96\x81" "hole\xEF\xBD\x9C>";
constexpr std::string_view kFimEnd = "<\xEF\xBD\x9C" "fim\xE2\x96\x81" "end\xEF\xBD\x9C>";

void append(std::vector<std::int32_t>& out, const std::vector<std::int32_t>& more) {
  out.insert(out.end(), more.begin(), more.end());
}

std::string special_text(const Tokenizer& tok, std::int32_t id) {
  if (id < 0) return "";
  return tok.decode(std::span<const std::int32_t>(&id, 1), false);
}

// Parsing a template costs far more than rendering it, and a server renders the same one for
// every request: keep parsed templates by source text.
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
  auto begin = tok.find_added_token(kFimBegin);
  auto hole = tok.find_added_token(kFimHole);
  auto end = tok.find_added_token(kFimEnd);
  if (!begin || !hole || !end) return std::nullopt;
  return FimTokens{*begin, *hole, *end};
}

std::vector<std::int32_t> fim_prompt(const Tokenizer& tok, std::string_view prefix,
                                     std::string_view suffix, bool add_bos) {
  auto fim = find_fim_tokens(tok);
  check(fim.has_value(), "model does not support insertion");
  std::vector<std::int32_t> ids;
  if (add_bos && tok.bos_id() >= 0) ids.push_back(tok.bos_id());
  ids.push_back(fim->begin);
  append(ids, tok.encode(prefix, false));
  ids.push_back(fim->hole);
  append(ids, tok.encode(suffix, false));
  ids.push_back(fim->end);
  return ids;
}

std::vector<std::int32_t> fim_stop_tokens(const Tokenizer& tok) {
  std::vector<std::int32_t> stops;
  if (tok.eos_id() >= 0) stops.push_back(tok.eos_id());
  if (auto fim = find_fim_tokens(tok)) {
    for (std::int32_t id : {fim->begin, fim->hole, fim->end}) stops.push_back(id);
  }
  return stops;
}

std::string render_chat(const Tokenizer& tok, const nlohmann::json& messages, bool add_generation_prompt) {
  check(!tok.chat_template().empty(), "the model has no chat template (tokenizer_config.json chat_template)");
  const ChatTemplate& tmpl = cached_template(tok.chat_template());
  return tmpl.render(messages, add_generation_prompt, special_text(tok, tok.bos_id()),
                     special_text(tok, tok.eos_id()));
}

std::vector<std::int32_t> chat_prompt(const Tokenizer& tok, const nlohmann::json& messages,
                                      bool add_generation_prompt) {
  return tok.encode(render_chat(tok, messages, add_generation_prompt), false);
}

}  // namespace dsv2
