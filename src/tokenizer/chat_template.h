// Chat templates: the Jinja2 programs in tokenizer_config.json ("chat_template") that turn a
// list of messages into the prompt text a chat model was trained on.
//
// This is an interpreter for the subset of Jinja2 that chat templates on the Hugging Face Hub use,
// and it renders the way transformers' apply_chat_template does: trim_blocks and lstrip_blocks
// on, no trailing newline kept, tojson as json.dumps(ensure_ascii=False), raise_exception()
// available, loop controls ({% break %}, {% continue %}) enabled. A template is parsed once and
// rendered many times; anything outside the subset is a dsv2::Error naming the construct and its
// line:column, raised by the constructor where Jinja would also fail at compile time (unknown
// tags, filters, tests; syntax errors) and by render() otherwise.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace dsv2 {

class ChatTemplate {
 public:
  explicit ChatTemplate(std::string source);

  // messages: usually [{"role": ..., "content": ...}, ...], passed to the template as `messages`.
  // add_generation_prompt, bos_token and eos_token become variables of those names; extra (a JSON
  // object or null) adds more (tools, enable_thinking, ...) but cannot override those four.
  // Throws dsv2::Error on evaluation errors and on raise_exception('...') in the template.
  std::string render(const nlohmann::json& messages, bool add_generation_prompt, const std::string& bos_token,
                     const std::string& eos_token, const nlohmann::json& extra = {}) const;

 private:
  struct Parsed;
  std::shared_ptr<const Parsed> parsed_;  // immutable after construction, so copies share it
};

}  // namespace dsv2
