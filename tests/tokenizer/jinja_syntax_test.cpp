// Expression and statement semantics of the chat-template Jinja interpreter. Every expected
// string was produced by the reference: Python jinja2 configured as transformers'
// apply_chat_template configures it (ImmutableSandboxedEnvironment with trim_blocks=True,
// lstrip_blocks=True, loopcontrols, tojson = json.dumps(ensure_ascii=False)).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tokenizer/chat_template.h"
#include "util/error.h"

namespace dsv2 {
namespace {

// Renders with no messages; extra_json holds the template's other variables.
std::string render(const std::string& source, const std::string& extra_json = "{}") {
  return ChatTemplate(source).render(nlohmann::json::array(), false, "<s>", "</s>", nlohmann::json::parse(extra_json));
}

TEST(JinjaSyntax, StringLiterals) {
  EXPECT_EQ(render(R"TPL({{ 'a\'b' }}|{{ "c\"d" }}|{{ 'tab\tnl\n' }}|{{ 'x' 'y' }}|{{ '\u00e9\x41' }}|{{ 'back\\slash' }})TPL"),
            "a'b|c\"d|tab\tnl\n|xy|éA|back\\slash");
}

TEST(JinjaSyntax, Numbers) {
  EXPECT_EQ(render(R"TPL({{ 1 + 2 }} {{ 7 - 10 }} {{ 2 * 3.5 }} {{ 7 / 2 }} {{ 4 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 2 ** 10 }} {{ 1e3 }} {{ 0.1 + 0.2 }} {{ 1_000 }})TPL"),
            "3 -3 7.0 3.5 2.0 3 -4 2 -2 1024 1000.0 0.30000000000000004 1000");
}

TEST(JinjaSyntax, Literals) {
  EXPECT_EQ(render(R"TPL({{ true }} {{ True }} {{ false }} {{ none }} {{ None }} {{ [1, 'a', none, true, 1.5] }} {{ {'k': 'v', 'n': [1]} }} {{ (1, 2)|length }})TPL"),
            "True True False None None [1, 'a', None, True, 1.5] {'k': 'v', 'n': [1]} 2");
}

TEST(JinjaSyntax, StringConcat) {
  EXPECT_EQ(render(R"TPL({{ 'a' + 'b' }}|{{ 'n=' ~ 3 ~ none ~ true }}|{{ 'ab' * 3 }}|{{ [1] + [2] }})TPL"),
            "ab|n=3NoneTrue|ababab|[1, 2]");
}

TEST(JinjaSyntax, Comparisons) {
  EXPECT_EQ(render(R"TPL({{ 1 == 1.0 }} {{ 1 != 2 }} {{ 'a' < 'b' }} {{ 2 >= 3 }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ true == 1 }} {{ none == none }} {{ [1, 2] == [1, 2] }})TPL"),
            "True True True False True False True True True");
}

TEST(JinjaSyntax, Logic) {
  EXPECT_EQ(render(R"TPL({{ true and 'x' }}|{{ 0 or 'y' }}|{{ not '' }}|{{ not x is defined }}|{{ 1 and 0 or 5 }})TPL"),
            "x|y|True|True|5");
}

TEST(JinjaSyntax, Membership) {
  EXPECT_EQ(render(R"TPL({{ 'ell' in 'hello' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 'z' not in 'abc' }} {{ 3 not in [3] }})TPL"),
            "True True True True False");
}

TEST(JinjaSyntax, Tests) {
  EXPECT_EQ(render(R"TPL({{ x is defined }} {{ y is not defined }} {{ n is none }} {{ s is string }} {{ d is mapping }} {{ l is iterable }} {{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(4) }} {{ 1 is number }} {{ 1.5 is float }} {{ 1 is integer }} {{ true is boolean }} {{ 'a' is eq 'a' }} {{ s is in ['str', 'x'] }} {{ 'abc' is lower }})TPL", R"JSON({"d": {}, "l": [], "n": null, "s": "str", "x": 1})JSON"),
            "True True True True True True True True True False True True True True True True True");
}

TEST(JinjaSyntax, Subscripts) {
  EXPECT_EQ(render(R"TPL({{ m['role'] }} {{ m.role }} {{ l[0] }} {{ l[-1] }} {{ l.1 }} {{ 'héllo'[1] }} {{ m['missing'] }}|{{ m.missing is defined }})TPL", R"JSON({"l": [10, 20, 30], "m": {"role": "user"}})JSON"),
            "user user 10 30 20 é |False");
}

TEST(JinjaSyntax, Slices) {
  EXPECT_EQ(render(R"TPL({{ l[1:] }} {{ l[:-1] }} {{ l[::2] }} {{ l[::-1] }} {{ l[5:] }} {{ 'héllo'[1:3] }} {{ 'abc'[::-1] }} {{ l[-2:] }})TPL", R"JSON({"l": [1, 2, 3, 4]})JSON"),
            "[2, 3, 4] [1, 2, 3] [1, 3] [4, 3, 2, 1] [] él cba [3, 4]");
}

TEST(JinjaSyntax, Ternary) {
  EXPECT_EQ(render(R"TPL({{ 'yes' if x else 'no' }} {{ 'yes' if y else 'no' }} [{{ 'only' if y }}] {{ 'a' if false else 'b' if true else 'c' }})TPL", R"JSON({"x": 1, "y": 0})JSON"),
            "yes no [] b");
}

TEST(JinjaSyntax, StringMethods) {
  EXPECT_EQ(render(R"TPL([{{ '  a b  '.strip() }}][{{ '  a '.lstrip() }}][{{ ' a  '.rstrip() }}][{{ 'xxaxx'.strip('x') }}] {{ 'abc'.startswith('ab') }} {{ 'abc'.endswith(('x', 'c')) }} {{ ' a  b c '.split() }} {{ 'a,b,,c'.split(',') }} {{ 'a,b,c'.split(',', 1) }} {{ 'Hi'.upper() }} {{ 'Hi'.lower() }} {{ 'a-b-a'.replace('a', 'x') }} {{ 'a-b-a'.replace('a', 'x', 1) }} {{ 'hello world'.title() }} {{ 'hELLO'.capitalize() }} {{ 'abc'.find('c') }} {{ ', '.join(['a', 'b']) }})TPL"),
            "[a b][a ][ a][a] True True ['a', 'b', 'c'] ['a', 'b', '', 'c'] ['a', 'b,c'] HI hi x-b-x x-b-a Hello World Hello 2 a, b");
}

TEST(JinjaSyntax, DictMethods) {
  EXPECT_EQ(render(R"TPL({{ d.get('a') }} {{ d.get('z') }} {{ d.get('z', 'dflt') }} {{ d.keys()|list }} {{ d.values()|list }} {% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %})TPL", R"JSON({"d": {"a": 1, "b": "two"}})JSON"),
            "1 None dflt ['a', 'b'] [1, 'two'] a=1;b=two;");
}

TEST(JinjaSyntax, Filters) {
  EXPECT_EQ(render(R"TPL([{{ '  x  '|trim }}] {{ [1, 2, 3]|length }} {{ 'héllo'|length }} {{ 'ab'|upper }} {{ 'AB'|lower }} {{ undefined_thing|default('dflt') }} {{ ''|default('empty', true) }} {{ ''|default('kept') }} {{ ['a', 'b']|join(', ') }} {{ [1, 2]|join }} {{ 5|string + '!' }} {{ [3, 4]|first }} {{ [3, 4]|last }} {{ 'abc'|first }} {{ 'abc'|list }} {{ '42'|int + 1 }} {{ 'x'|int }} {{ '2.5'|float }} {{ -3|abs }} {{ 'aXa'|replace('a', 'b') }} {{ [1, 2]|reverse|list }} {{ 'hello world'|title }} {{ 'hello'|capitalize }} {% for k, v in {'a': 1}|items %}{{ k }}{{ v }}{% endfor %} {{ 'a'|d('b') }})TPL"),
            "[x] 3 5 AB ab dflt empty  a, b 12 5! 3 4 a ['a', 'b', 'c'] 43 0 2.5 3 bXb [2, 1] Hello World Hello a1 a");
}

TEST(JinjaSyntax, FilterChainsAndPrecedence) {
  EXPECT_EQ(render(R"TPL({{ 'a' ~ 'b'|upper }} {{ ' x '|trim|upper|length }} {{ -1|abs }} {{ 'A' + ' b '|trim|upper }} {{ not ''|length }})TPL"),
            "aB 1 1 AB True");
}

TEST(JinjaSyntax, SelectAndMap) {
  EXPECT_EQ(render(R"TPL({{ ms|selectattr('role', 'equalto', 'user')|map(attribute='content')|join(',') }} {{ ms|rejectattr('role', 'equalto', 'user')|list|length }} {{ [0, 1, 2]|select|list }} {{ [0, 1, 2]|reject('odd')|list }} {{ ['a', 'b']|map('upper')|list }})TPL", R"JSON({"ms": [{"content": "u1", "role": "user"}, {"content": "a1", "role": "assistant"}, {"content": "u2", "role": "user"}]})JSON"),
            "u1,u2 1 [1, 2] [0, 2] ['A', 'B']");
}

TEST(JinjaSyntax, ToJson) {
  EXPECT_EQ(render(R"TPL({{ d|tojson }}|{{ l|tojson }}|{{ 'é"\n'|tojson }}|{{ d|tojson(indent=2) }}|{{ {'b': 1, 'a': 2}|tojson(sort_keys=true) }}|{{ none|tojson }}|{{ 1.0|tojson }})TPL", R"JSON({"d": {"empty": {}, "name": "f", "params": {"x": [1, 2.5, null, true]}}, "l": []})JSON"),
            "{\"empty\": {}, \"name\": \"f\", \"params\": {\"x\": [1, 2.5, null, true]}}|[]|\"é\\\"\\n\"|{\n  \"empty\": {},\n  \"name\": \"f\",\n  \"params\": {\n    \"x\": [\n      1,\n      2.5,\n      null,\n      true\n    ]\n  }\n}|{\"a\": 2, \"b\": 1}|null|1.0");
}

TEST(JinjaSyntax, PythonRepr) {
  EXPECT_EQ(render(R"TPL({{ ['it\'s', "say \"hi\"", 'a\nb'] }} {{ {'k': none} }} {{ 1.0 }} {{ 1e16 }} {{ 1e-5 }} {{ 123456789.125 }})TPL"),
            "[\"it's\", 'say \"hi\"', 'a\\nb'] {'k': None} 1.0 1e+16 1e-05 123456789.125");
}

TEST(JinjaSyntax, ForLoopVariables) {
  EXPECT_EQ(render(R"TPL({% for x in ['a', 'b', 'c'] %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.previtem }}{{ loop.nextitem }};{% endfor %})TPL"),
            "1032TrueFalse3b;2121FalseFalse3ac;3210FalseTrue3b;");
}

TEST(JinjaSyntax, ForLoopFilterElseBreakContinue) {
  EXPECT_EQ(render(R"TPL({% for x in [1, 2, 3, 4] if x is even %}{{ x }}/{{ loop.length }}{{ ',' if not loop.last }}{% endfor %}|{% for x in [] %}never{% else %}empty{% endfor %}|{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}{% endif %}{{ x }}{% endfor %}|{% for k in {'b': 1, 'a': 2} %}{{ k }}{% endfor %}|{% for c in 'hé' %}[{{ c }}]{% endfor %}|{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %})TPL"),
            "2/2,4/2|empty|0134|ba|[h][é]|37");
}

TEST(JinjaSyntax, NestedLoops) {
  EXPECT_EQ(render(R"TPL({% for i in [1, 2] %}{% for j in ['a', 'b'] %}{{ i }}{{ j }}{{ loop.index }}{% endfor %}{{ loop.index }};{% endfor %})TPL"),
            "1a11b21;2a12b22;");
}

TEST(JinjaSyntax, SetScoping) {
  EXPECT_EQ(render(R"TPL({% set x = 'outer' %}{% for i in [1, 2] %}{{ x }}{% set x = 'inner' ~ i %}{{ x }},{% endfor %}{{ x }}|{% if true %}{% set y = 'from-if' %}{% endif %}{{ y }}|{% for i in [1] %}{% set z = 1 %}{% endfor %}{{ z is defined }})TPL"),
            "outerinner1,outerinner2,outer|from-if|False");
}

TEST(JinjaSyntax, Namespace) {
  EXPECT_EQ(render(R"TPL({% set ns = namespace(found=false, count=0) %}{% for m in ['a', 'sys', 'b'] %}{% if m == 'sys' %}{% set ns.found = true %}{% endif %}{% set ns.count = ns.count + 1 %}{% endfor %}{{ ns.found }} {{ ns.count }})TPL"),
            "True 3");
}

TEST(JinjaSyntax, SetForms) {
  EXPECT_EQ(render(R"TPL({% set a, b = 1, 2 %}{{ a }}{{ b }}|{% set t = 1, 2 %}{{ t|length }}|{% set block %}  B{{ 1 + 1 }}  {% endset %}[{{ block }}])TPL"),
            "12|2|[  B2  ]");
}

TEST(JinjaSyntax, Range) {
  EXPECT_EQ(render(R"TPL({{ range(3)|list }} {{ range(1, 7, 2)|list }} {{ range(3, 0, -1)|list }})TPL"),
            "[0, 1, 2] [1, 3, 5] [3, 2, 1]");
}

TEST(JinjaSyntax, Comments) {
  EXPECT_EQ(render(R"TPL(a{# a comment #}b{#- trimmed -#}  c  {# keep #}d)TPL"),
            "abc  d");
}

TEST(JinjaSyntax, WhitespaceControlMarkers) {
  EXPECT_EQ(render("a  {{- 'b' -}}  c\n  {%- if true -%}  \n d  {%- endif %}"),
            "abcd");
}

TEST(JinjaSyntax, TrimBlocks) {
  EXPECT_EQ(render("{% if true %}\nline\n{% endif %}\nafter\n{{ 'var' }}\nend"),
            "line\nafter\nvar\nend");
}

TEST(JinjaSyntax, LstripBlocks) {
  EXPECT_EQ(render("start\n    {% if true %}\n    indented\n    {% endif %}\n  {{ 'var' }}\nx {% if true %}y{% endif %}\n\t{# comment #}\nz"),
            "start\n    indented\n  var\nx yz");
}

TEST(JinjaSyntax, PlusMarkersDisableTrimAndLstrip) {
  EXPECT_EQ(render("a\n  {%+ if true %}b{% endif +%}\nc"),
            "a\n  b\nc");
}

TEST(JinjaSyntax, TrailingNewlineDropped) {
  EXPECT_EQ(render("text\n"),
            "text");
}

TEST(JinjaSyntax, OnlyOneTrailingNewlineDropped) {
  EXPECT_EQ(render("text\n\n"),
            "text\n");
}

TEST(JinjaSyntax, CrLfNormalized) {
  EXPECT_EQ(render("a\r\n{% if true %}\r\nb\r\n{% endif %}\r\n"),
            "a\nb\n");
}

TEST(JinjaSyntax, GenerationBlock) {
  EXPECT_EQ(render(R"TPL({% generation %}gen {{ 1 }}{% endgeneration %})TPL"),
            "gen 1");
}

TEST(JinjaSyntax, UndefinedPrintsEmpty) {
  EXPECT_EQ(render(R"TPL([{{ nothing }}][{{ nothing ~ 'x' }}][{{ nothing|length }}][{% for x in nothing %}{{ x }}{% endfor %}][{{ nothing is defined }}])TPL"),
            "[][x][0][][False]");
}

TEST(JinjaSyntax, DictLiteralInsideVariableTag) {
  EXPECT_EQ(render(R"TPL({{ {'a': {'b': 1}} }}{{ {'a': {'b': 1}}['a']['b'] }})TPL"),
            "{'a': {'b': 1}}1");
}

TEST(JinjaSyntax, IntegerOverflowIsAnErrorNotAWrongAnswer) {
  EXPECT_THROW(render("{{ 9223372036854775807 + 1 }}"), Error);
  EXPECT_THROW(render("{{ 2 ** 64 }}"), Error);
  EXPECT_EQ(render("{{ 2 ** 62 }}"), "4611686018427387904");
}

TEST(JinjaSyntax, DictKeysComeInJsonObjectOrder) {
  // nlohmann::json objects iterate in key order, so that is the order templates see.
  EXPECT_EQ(render("{{ d|tojson }}", R"({"d": {"b": 1, "a": 2}})"), R"({"a": 2, "b": 1})");
}

TEST(JinjaSyntax, RawNonAsciiSurvivesEverywhere) {
  EXPECT_EQ(render("{{ s|tojson }} {{ s|upper }} {{ s[0] }} {{ s|length }}", R"({"s": "日本語 ok"})"),
            "\"日本語 ok\" 日本語 OK 日 6");
  EXPECT_EQ(render("{{ s|tojson(ensure_ascii=true) }}", R"({"s": "é😀"})"), R"("\u00e9\ud83d\ude00")");
}

}  // namespace
}  // namespace dsv2
