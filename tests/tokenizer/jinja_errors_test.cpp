// Unsupported or broken templates fail with a dsv2::Error naming the construct and its
// line:column, and no template text (random, truncated, mutated) crashes the interpreter.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "support/fixtures.h"
#include "tokenizer/chat_template.h"
#include "util/error.h"

namespace dsv2 {
namespace {

using nlohmann::json;

const json kMessages = json::parse(R"([{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"},
                                       {"role": "assistant", "content": "hello"}, {"role": "user", "content": "é?"}])");

// The message of the dsv2::Error that parsing or rendering source throws ("" if none).
std::string error_of(const std::string& source, const json& extra = {}) {
  try {
    ChatTemplate(source).render(kMessages, true, "<s>", "</s>", extra);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(JinjaErrors, UnsupportedConstructsAreNamedWithTheirPosition) {
  EXPECT_EQ(error_of("{% macro m() %}x{% endmacro %}"), "chat template 1:4: unsupported tag 'macro'");
  EXPECT_EQ(error_of("ok\n  {% include 'other.j2' %}"), "chat template 2:6: unsupported tag 'include'");
  EXPECT_EQ(error_of("{{ messages | frobnicate }}"), "chat template 1:15: unknown filter 'frobnicate'");
  EXPECT_EQ(error_of("{% if x is frobbed %}{% endif %}"), "chat template 1:12: unknown test 'frobbed'");
  EXPECT_EQ(error_of("{{ 'a{}'.format(1) }}"), "chat template 1:9: unsupported method 'format' on str");
  EXPECT_EQ(error_of("{{ messages.append(1) }}"), "chat template 1:12: unsupported method 'append' on list");
  EXPECT_EQ(error_of("{{ lipsum(2) }}"), "chat template 1:4: unknown function 'lipsum'");
  EXPECT_EQ(error_of("{% for m in messages recursive %}{% endfor %}"),
            "chat template 1:22: unsupported construct 'recursive' loop");
  EXPECT_EQ(error_of("{{ '%s' % 1 }}"), "chat template 1:9: unsupported construct: '%' string formatting");
}

TEST(JinjaErrors, RaiseExceptionCarriesTheTemplatesMessage) {
  EXPECT_EQ(error_of("{% if messages|length > 1 %}{{ raise_exception('Only one message, please') }}{% endif %}"),
            "chat template 1:32: template raised an exception: Only one message, please");
}

TEST(JinjaErrors, SyntaxErrors) {
  EXPECT_EQ(error_of("{% if true %}never closed"), "chat template 1:1: unclosed block: '{% endif %}' is missing");
  EXPECT_EQ(error_of("{% for m in messages %}{% if x %}{% endfor %}"),
            "chat template 1:37: unexpected tag 'endfor', expected 'endif'");
  EXPECT_EQ(error_of("a{% endfor %}"), "chat template 1:5: unexpected tag 'endfor' (no open block ends with it)");
  EXPECT_EQ(error_of("{{ 'abc }}"), "chat template 1:4: unterminated string literal");
  EXPECT_EQ(error_of("{{ x "), "chat template 1:1: unclosed tag '{{'");
  EXPECT_EQ(error_of("{# note"), "chat template 1:1: unclosed comment");
  EXPECT_EQ(error_of("{% break %}"), "chat template 1:4: 'break' outside of a for loop");
  EXPECT_EQ(error_of("{{ a ! b }}"), "chat template 1:6: unexpected character '!'");
  EXPECT_EQ(error_of("{{ (1 + }}"), "chat template 1:9: unexpected '}', expected ')'");
  EXPECT_EQ(error_of("{% if %}{% endif %}"), "chat template 1:7: unexpected '%}' in expression");
  EXPECT_EQ(error_of("{{ 1 }"), "chat template 1:6: unexpected '}'");
  EXPECT_EQ(error_of("{{ f(a=1, 2) }}"), "chat template 1:11: positional argument follows keyword argument");
  std::string nested = "{{ ";
  nested.append(300, '(').append("1").append(300, ')').append(" }}");
  EXPECT_EQ(error_of(nested), "chat template 1:" + std::to_string(4 + 99) + ": template is nested too deeply");
}

TEST(JinjaErrors, EvaluationErrors) {
  EXPECT_EQ(error_of("{{ 1 + 'a' }}"), "chat template 1:6: unsupported operand type(s) for +: 'int' and 'str'");
  EXPECT_EQ(error_of("{{ 1 / 0 }}"), "chat template 1:6: division by zero");
  EXPECT_EQ(error_of("{{ nothing.attr }}"), "chat template 1:11: 'nothing' is undefined");
  EXPECT_EQ(error_of("{{ messages[0].nope + 'x' }}"), "chat template 1:21: 'dict object' has no attribute 'nope'");
  EXPECT_EQ(error_of("{% set x = 1 %}{% set x.y = 2 %}"),
            "chat template 1:16: cannot assign attribute on non-namespace object 'x'");
  EXPECT_EQ(error_of("{% for x in 5 %}{% endfor %}"), "chat template 1:13: 'int' object is not iterable");
  EXPECT_EQ(error_of("{{ 'a' < 1 }}"), "chat template 1:8: '<' not supported between instances of 'str' and 'int'");
  EXPECT_EQ(error_of("{{ messages|default(1, 2, 3) }}"),
            "chat template 1:13: filter 'default': default() takes at most 2 argument(s), got 3");
  EXPECT_EQ(error_of("{% for i in range(1000000) %}{% endfor %}"),
            "chat template 1:13: range() is too big (more than 100000 items)");
  EXPECT_EQ(error_of("{% for k, v in [1] %}{% endfor %}"), "chat template 1:1: 'int' object is not iterable");
  EXPECT_EQ(error_of("{{ 'x' * 1000000000 }}"), "chat template 1:8: string repetition result is too large");
  EXPECT_EQ(error_of("{% set ns = namespace() %}{% set ns.me = ns %}"),
            "chat template 1:27: namespace attributes cannot hold namespaces or values nested more than 64 levels deep");
}

TEST(JinjaErrors, NamespaceNestingIsBoundedAcrossIterations) {
  const std::string source =
      "{% set ns = namespace(x=[]) %}{% for i in range(1000) %}{% set ns.x = [ns.x] %}{% endfor %}{{ ns.x }}";
  EXPECT_NE(error_of(source).find("nested more than 64 levels"), std::string::npos);
}

// Constructing and rendering must either succeed or throw dsv2::Error; anything else (another
// exception type, a crash, a sanitizer report) fails the test.
void expect_no_crash(const std::string& source) {
  try {
    ChatTemplate t(source);
    t.render(kMessages, true, "<s>", "</s>", {{"tools", json::array({{{"name", "f"}}})}});
  } catch (const Error&) {
  } catch (const std::exception& e) {
    ADD_FAILURE() << "unexpected exception " << e.what() << " for template: " << source;
  }
}

std::vector<std::string> real_templates() {
  const auto config = json::parse(test::read_file(test::fixture("tokenizer/deepseek-v2/tokenizer_config.json")));
  return {config.at("chat_template").get<std::string>(),
          "{%- set ns = namespace(found=false) -%}\n{%- for message in messages -%}\n  {%- if message['role'] == "
          "'system' -%}{%- set ns.found = true -%}{%- endif -%}\n{%- endfor %}\n{{ bos_token }}{% for m in "
          "messages[1:] if m.role != 'tool' %}{{ loop.index ~ ':' ~ m.content|trim|upper }}{% else %}none{% endfor "
          "%}{{ tools|tojson(indent=2) }}{# end #}{{ 'x' if ns.found else raise_exception('no system') }}"};
}

TEST(JinjaFuzz, EveryTruncationOfRealTemplates) {
  for (const std::string& source : real_templates())
    for (std::size_t n = 0; n <= source.size(); ++n) expect_no_crash(source.substr(0, n));
}

TEST(JinjaFuzz, RandomByteMutationsOfRealTemplates) {
  std::mt19937 rng(1234);
  const std::string alphabet = "{}%#-+'\"()[]|.,:=~ \n\\xé";
  for (const std::string& original : real_templates()) {
    for (int iteration = 0; iteration < 1500; ++iteration) {
      std::string source = original;
      const int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits && !source.empty(); ++e) {
        const std::size_t at = rng() % source.size();
        const char c = alphabet[rng() % alphabet.size()];
        switch (rng() % 3) {
          case 0: source[at] = c; break;
          case 1: source.insert(source.begin() + static_cast<std::ptrdiff_t>(at), c); break;
          default: source.erase(at, 1 + rng() % 3); break;
        }
      }
      expect_no_crash(source);
    }
  }
}

TEST(JinjaFuzz, RandomTokenSoup) {
  static const std::vector<std::string> pieces = {
      "{{", "}}", "{%", "%}", "{#", "#}", "{%-", "-%}", "{{-", "-}}", "if", "elif", "else", "endif", "for", "in",
      "endfor", "set", "endset", "break", "continue", "x", "m", "=", "'s'", "\"t\"", "(", ")", "[", "]", "{", "}",
      ".", "|", "trim", "length", "tojson", "join", "1", "-1", "0.5", " ", "\n", "loop", "messages", "not", "and",
      "or", "~", "+", "*", "/", "//", "%", "**", ":", ",", "ns", "namespace(a=1)", "ns.a", "is", "defined", "none",
      "raise_exception", "é", "'", "content", "role", "items()", "strip()", "\\", "==", "<", "generation"};
  std::mt19937 rng(42);
  for (int iteration = 0; iteration < 20000; ++iteration) {
    std::string source;
    const int length = 1 + static_cast<int>(rng() % 30);
    for (int i = 0; i < length; ++i) source += pieces[rng() % pieces.size()] + (rng() % 2 ? " " : "");
    expect_no_crash(source);
  }
}

}  // namespace
}  // namespace dsv2
