// ChatTemplate on real chat templates: DeepSeek-V2's own (from the tokenizer_config.json fixture)
// and widely used Hugging Face templates. Expected prompts are byte-exact; those not spelled out in
// docs/deepseek-v2-reference.md were produced by the reference renderer (Python jinja2 configured
// as transformers' apply_chat_template configures it).
#include "tokenizer/chat_template.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "support/fixtures.h"
#include "util/error.h"

namespace dsv2 {
namespace {

using nlohmann::json;

const std::string kBos = "<｜begin▁of▁sentence｜>";
const std::string kEos = "<｜end▁of▁sentence｜>";

json message(const std::string& role, const std::string& content) { return {{"role", role}, {"content", content}}; }

const json kSystem = message("system", "You are terse.");
const json kU1 = message("user", "Hi there");
const json kA1 = message("assistant", "Hello! How can I help?");
const json kU2 = message("user", "Write fib in C.");

json conversation(std::initializer_list<json> messages) { return json(messages); }

std::string deepseek_template() {
  const auto config = json::parse(test::read_file(test::fixture("tokenizer/deepseek-v2/tokenizer_config.json")));
  return config.at("chat_template").get<std::string>();
}

// Asserts that rendering throws dsv2::Error whose message contains needle.
void expect_error(const ChatTemplate& t, const json& messages, const std::string& needle) {
  try {
    t.render(messages, false, "<s>", "</s>");
    ADD_FAILURE() << "expected an error containing: " << needle;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

// ---- DeepSeek-V2 (reference §7) ----

TEST(ChatTemplateDeepSeek, SystemAndTwoTurnsWithGenerationPrompt) {
  const ChatTemplate t(deepseek_template());
  EXPECT_EQ(t.render(conversation({kSystem, kU1, kA1, kU2}), true, kBos, kEos),
            kBos + "You are terse.\n\nUser: Hi there\n\nAssistant: Hello! How can I help?" + kEos +
                "User: Write fib in C.\n\nAssistant:");
}

TEST(ChatTemplateDeepSeek, WithoutSystemMessage) {
  const ChatTemplate t(deepseek_template());
  EXPECT_EQ(t.render(conversation({kU1, kA1, kU2}), true, kBos, kEos),
            kBos + "User: Hi there\n\nAssistant: Hello! How can I help?" + kEos + "User: Write fib in C.\n\nAssistant:");
  EXPECT_EQ(t.render(conversation({kU1}), true, kBos, kEos), kBos + "User: Hi there\n\nAssistant:");
}

TEST(ChatTemplateDeepSeek, WithoutGenerationPrompt) {
  const ChatTemplate t(deepseek_template());
  EXPECT_EQ(t.render(conversation({kU1, kA1, kU2}), false, kBos, kEos),
            kBos + "User: Hi there\n\nAssistant: Hello! How can I help?" + kEos + "User: Write fib in C.\n\n");
  EXPECT_EQ(t.render(conversation({kSystem, kU1, kA1}), false, kBos, kEos),
            kBos + "You are terse.\n\nUser: Hi there\n\nAssistant: Hello! How can I help?" + kEos);
}

TEST(ChatTemplateDeepSeek, NoSpaceAfterTheFinalAssistantColon) {
  const std::string prompt = ChatTemplate(deepseek_template()).render(conversation({kU1}), true, kBos, kEos);
  ASSERT_GE(prompt.size(), 10u);
  EXPECT_EQ(prompt.substr(prompt.size() - 10), "Assistant:");
}

TEST(ChatTemplateDeepSeek, ParsedOnceRenderedManyTimesAndCopiesShareIt) {
  const ChatTemplate t(deepseek_template());
  const ChatTemplate copy = t;
  for (const std::string question : {"first?", "second?", "third?"}) {
    const json messages = conversation({message("user", question)});
    EXPECT_EQ(copy.render(messages, true, kBos, kEos), kBos + "User: " + question + "\n\nAssistant:");
  }
}

TEST(ChatTemplateDeepSeek, ContentIsInsertedVerbatim) {
  const std::string content = "{{ not a tag }} {% if %} 日本語\n\ttab \\ \"quotes\"";
  EXPECT_EQ(ChatTemplate(deepseek_template()).render(conversation({message("user", content)}), true, kBos, kEos),
            kBos + "User: " + content + "\n\nAssistant:");
}

TEST(ChatTemplateDeepSeek, UnknownRolesAreSkippedAndEmptyConversationIsJustBos) {
  const ChatTemplate t(deepseek_template());
  EXPECT_EQ(t.render(conversation({message("tool", "x"), kU1}), false, kBos, kEos), kBos + "User: Hi there\n\n");
  EXPECT_EQ(t.render(json::array(), false, kBos, kEos), kBos);
}

TEST(ChatTemplateDeepSeek, MissingContentIsAClearError) {
  expect_error(ChatTemplate(deepseek_template()), json::array({{{"role", "user"}}}),
               "'dict object' has no attribute 'content'");
}

// DeepSeek-V2.5 / Coder-V2-0724 style: special-token roles and a namespace that collects the
// system prompt before the loop.
TEST(ChatTemplateDeepSeek, V25StyleTemplate) {
  const ChatTemplate t(R"TPL({% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}{% set ns = namespace(is_first=false, system_prompt='') %}{%- for message in messages %}{%- if message['role'] == 'system' %}{% set ns.system_prompt = message['content'] %}{%- endif %}{%- endfor %}{{ bos_token }}{{ ns.system_prompt }}{%- for message in messages %}{%- if message['role'] == 'user' %}{{ '<｜User｜>' + message['content'] }}{%- endif %}{%- if message['role'] == 'assistant' %}{{ '<｜Assistant｜>' + message['content'] + '<｜end▁of▁sentence｜>' }}{%- endif %}{%- endfor -%}{% if add_generation_prompt %}{{ '<｜Assistant｜>' }}{% endif %})TPL");
  EXPECT_EQ(t.render(conversation({kSystem, kU1, kA1, kU2}), true, "<s>", "</s>"),
            "<s>You are terse.<｜User｜>Hi there<｜Assistant｜>Hello! How can I help?<｜end▁of▁sentence｜><｜User｜>Write "
            "fib in C.<｜Assistant｜>");
  EXPECT_EQ(t.render(conversation({kU1, kA1}), false, "<s>", "</s>"),
            "<s><｜User｜>Hi there<｜Assistant｜>Hello! How can I help?<｜end▁of▁sentence｜>");
}

// DeepSeek-Coder instruct style: a multi-line template that relies on trim_blocks, lstrip_blocks
// and -/+ markers all at once, with a default system prompt when none is given.
TEST(ChatTemplateDeepSeek, CoderInstructStyleMultiLineTemplate) {
  const ChatTemplate t(R"TPL({% if not add_generation_prompt is defined %}
{% set add_generation_prompt = false %}
{% endif %}
{%- set ns = namespace(found=false) -%}
{%- for message in messages -%}
    {%- if message['role'] == 'system' -%}
        {%- set ns.found = true -%}
    {%- endif -%}
{%- endfor -%}
{{bos_token}}{%- if not ns.found -%}
{{'You are an AI programming assistant, utilizing the Deepseek Coder model, developed by Deepseek Company, and you only answer questions related to computer science. For politically sensitive questions, security and privacy issues, and other non-computer science questions, you will refuse to answer\n'}}
{%- endif %}
{%- for message in messages %}
    {%- if message['role'] == 'system' %}
{{ message['content'] }}
    {%- else %}
        {%- if message['role'] == 'user' %}
{{'### Instruction:\n' + message['content'] + '\n'}}
        {%- else %}
{{'### Response:\n' + message['content'] + '\n<|EOT|>\n'}}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{% if add_generation_prompt %}
{{'### Response:'}}
{% endif %})TPL");
  EXPECT_EQ(t.render(conversation({kU1, kA1, kU2}), true, "<s>", "</s>"),
            "<s>You are an AI programming assistant, utilizing the Deepseek Coder model, developed by Deepseek "
            "Company, and you only answer questions related to computer science. For politically sensitive "
            "questions, security and privacy issues, and other non-computer science questions, you will refuse to "
            "answer\n### Instruction:\nHi there\n### Response:\nHello! How can I help?\n<|EOT|>\n### "
            "Instruction:\nWrite fib in C.\n### Response:\n");
  EXPECT_EQ(t.render(conversation({kSystem, kU1, kA1, kU2}), false, "<s>", "</s>"),
            "<s>You are terse.### Instruction:\nHi there\n### Response:\nHello! How can I help?\n<|EOT|>\n### "
            "Instruction:\nWrite fib in C.\n");
}

// ---- other popular templates ----

TEST(ChatTemplatePopular, ChatMLWithDefaultSystemPrompt) {
  const ChatTemplate t(R"TPL({% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %})TPL");
  EXPECT_EQ(t.render(conversation({kU1, kA1, kU2}), true, "", ""),
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi "
            "there<|im_end|>\n<|im_start|>assistant\nHello! How can I help?<|im_end|>\n<|im_start|>user\nWrite fib in "
            "C.<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(t.render(conversation({kSystem, kU1}), false, "", ""),
            "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n");
}

TEST(ChatTemplatePopular, Llama2WithSystemPromptFoldedIntoFirstTurn) {
  const ChatTemplate t(R"TPL({% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\n' + system_message + '\n<</SYS>>\n\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %})TPL");
  EXPECT_EQ(t.render(conversation({kSystem, kU1, kA1, kU2}), false, "<s>", "</s>"),
            "<s>[INST] <<SYS>>\nYou are terse.\n<</SYS>>\n\nHi there [/INST] Hello! How can I help? </s><s>[INST] "
            "Write fib in C. [/INST]");
  EXPECT_EQ(t.render(conversation({kU1, kA1}), false, "<s>", "</s>"),
            "<s>[INST] Hi there [/INST] Hello! How can I help? </s>");
}

TEST(ChatTemplatePopular, Llama2RaisesOnRoleAlternation) {
  const ChatTemplate t(R"TPL({% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\n' + system_message + '\n<</SYS>>\n\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %})TPL");
  expect_error(t, conversation({kU1, kU1}), "Conversation roles must alternate user/assistant/user/assistant/...");
}

TEST(ChatTemplatePopular, MistralRaisesWithTheTemplatesOwnMessage) {
  const ChatTemplate t(R"TPL({{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %})TPL");
  EXPECT_EQ(t.render(conversation({kU1, kA1, kU2}), false, "<s>", "</s>"),
            "<s>[INST] Hi there [/INST]Hello! How can I help?</s>[INST] Write fib in C. [/INST]");
  expect_error(t, conversation({kSystem, kU1}), "Conversation roles must alternate");
  expect_error(t, conversation({kU1, message("system", "x")}), "Only user and assistant roles are supported!");
}

TEST(ChatTemplatePopular, ZephyrMultiLineWithLoopLast) {
  const ChatTemplate t(R"TPL({% for message in messages %}
{% if message['role'] == 'user' %}
{{ '<|user|>
' + message['content'] + eos_token }}
{% elif message['role'] == 'system' %}
{{ '<|system|>
' + message['content'] + eos_token }}
{% elif message['role'] == 'assistant' %}
{{ '<|assistant|>
'  + message['content'] + eos_token }}
{% endif %}
{% if loop.last and add_generation_prompt %}
{{ '<|assistant|>' }}
{% endif %}
{% endfor %})TPL");
  EXPECT_EQ(t.render(conversation({kSystem, kU1, kA1, kU2}), true, "<s>", "</s>"),
            "<|system|>\nYou are terse.</s>\n<|user|>\nHi there</s>\n<|assistant|>\nHello! How can I "
            "help?</s>\n<|user|>\nWrite fib in C.</s>\n<|assistant|>\n");
  EXPECT_EQ(t.render(conversation({kU1, kA1}), false, "<s>", "</s>"),
            "<|user|>\nHi there</s>\n<|assistant|>\nHello! How can I help?</s>\n");
}

TEST(ChatTemplatePopular, Llama3FilterBindsTighterThanPlus) {
  const ChatTemplate t(R"TPL({% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %})TPL");
  EXPECT_EQ(t.render(conversation({message("user", "  padded  ")}), true, "<s>", "</s>"),
            "<s><|start_header_id|>user<|end_header_id|>\n\npadded<|eot_id|><|start_header_id|>assistant<|end_header_"
            "id|>\n\n");
}

TEST(ChatTemplatePopular, ToolCallingTemplateWithToJsonAndExtraVariables) {
  const ChatTemplate t(R"TPL({%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0].role == 'system' %}
        {{- messages[0].content + '\n\n' }}
    {%- endif %}
    {{- "# Tools\n\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools><|im_end|>\n" }}
{%- elif messages[0].role == 'system' %}
    {{- '<|im_start|>system\n' + messages[0].content + '<|im_end|>\n' }}
{%- endif %}
{%- set ns = namespace(last_user=-1) %}
{%- for message in messages %}
    {%- if message.role == 'user' %}{% set ns.last_user = loop.index0 %}{% endif %}
{%- endfor %}
{%- for message in messages %}
    {%- if message.role == 'user' or (message.role == 'assistant' and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- elif message.role == 'assistant' %}
        {{- '<|im_start|>assistant' }}
        {%- for tool_call in message.tool_calls %}
            {%- set call = tool_call.function if tool_call.function is defined else tool_call %}
            {{- '\n<tool_call>\n{"name": "' + call.name + '", "arguments": ' + call.arguments | tojson + '}\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == 'tool' %}
        {{- '<|im_start|>user\n<tool_response>\n' + message.content + '\n</tool_response><|im_end|>\n' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
)TPL");
  const json tools = json::parse(R"([{"type": "function", "function": {"name": "get_weather",
      "description": "Weather for a city", "parameters": {"type": "object",
      "properties": {"city": {"type": "string"}}, "required": ["city"]}}}])");
  const json messages = json::parse(R"([{"role": "system", "content": "Be brief."},
      {"role": "user", "content": "Weather in Paris?"},
      {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "get_weather",
          "arguments": {"city": "Paris"}}}]},
      {"role": "tool", "content": "18°C"}])");
  EXPECT_EQ(t.render(messages, true, "", "", {{"tools", tools}}),
            "<|im_start|>system\nBe brief.\n\n# Tools\n\n<tools>\n{\"function\": {\"description\": \"Weather for a city\", \"name\": \"get_weather\", \"parameters\": {\"properties\": {\"city\": {\"type\": \"string\"}}, \"required\": [\"city\"], \"type\": \"object\"}}, \"type\": \"function\"}\n</tools><|im_end|>\n<|im_start|>user\nWeather in Paris?<|im_end|>\n<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call><|im_end|>\n<|im_start|>user\n<tool_response>\n18°C\n</tool_response><|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(t.render(conversation({kU1, kA1, kU2}), false, "", "", {{"tools", nullptr}}),
            "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\nHello! How can I "
            "help?<|im_end|>\n<|im_start|>user\nWrite fib in C.<|im_end|>\n");
}

TEST(ChatTemplateApi, FixedVariablesWinOverExtra) {
  const ChatTemplate t("{{ bos_token }}|{{ add_generation_prompt }}|{{ custom }}");
  EXPECT_EQ(t.render(json::array(), true, "B", "E", {{"bos_token", "X"}, {"custom", 7}}), "B|True|7");
  EXPECT_THROW(t.render(json::array(), true, "B", "E", json::array()), Error);
}

}  // namespace
}  // namespace dsv2
