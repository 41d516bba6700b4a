#include "tokenizer/chat_template.h"

#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/eval.h"
#include "tokenizer/jinja/lexer.h"
#include "tokenizer/jinja/parser.h"
#include "util/error.h"

namespace dsv2 {

struct ChatTemplate::Parsed {
  std::string source;  // normalized: error positions refer to it
  jinja::Body body;
};

namespace {

[[noreturn]] void rethrow(const jinja::TemplateError& e, const std::string& source) {
  std::string message = "chat template";
  if (e.offset != jinja::kNoOffset) message.append(" ").append(jinja::describe_position(source, e.offset));
  message.append(": ").append(e.what());
  throw Error(message);
}

}  // namespace

ChatTemplate::ChatTemplate(std::string source) {
  auto parsed = std::make_shared<Parsed>();
  parsed->source = jinja::normalize_source(source);
  try {
    parsed->body = jinja::parse(jinja::tokenize(parsed->source));
  } catch (const jinja::TemplateError& e) {
    rethrow(e, parsed->source);
  }
  parsed_ = std::move(parsed);
}

std::string ChatTemplate::render(const nlohmann::json& messages, bool add_generation_prompt,
                                 const std::string& bos_token, const std::string& eos_token,
                                 const nlohmann::json& extra) const {
  check(extra.is_null() || extra.is_object(), "chat template: extra variables must be a JSON object");
  try {
    jinja::Dict variables;
    if (extra.is_object())
      for (const auto& [name, value] : extra.items()) variables.set(name, jinja::Value::from_json(value));
    variables.set("messages", jinja::Value::from_json(messages));
    variables.set("add_generation_prompt", jinja::Value(add_generation_prompt));
    variables.set("bos_token", jinja::Value(bos_token));
    variables.set("eos_token", jinja::Value(eos_token));
    return jinja::Evaluator(variables).render(parsed_->body);
  } catch (const jinja::TemplateError& e) {
    rethrow(e, parsed_->source);
  }
}

}  // namespace dsv2
