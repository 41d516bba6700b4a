// Splits template source into text and the tokens inside {{ }} and {% %} tags, applying the
// whitespace rules of the environment transformers renders chat templates with
// (trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False) plus the explicit
// -/+ markers. Comments are dropped here.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dsv2::jinja {

enum class TokenKind { Text, VarBegin, VarEnd, BlockBegin, BlockEnd, Name, String, Int, Float, Op, Eof };

struct Token {
  TokenKind kind;
  std::string text;  // Text: the output text; Name/Op: the spelling; String: the decoded value
  std::size_t offset;  // byte offset in the normalized source, for error positions
  std::int64_t int_value = 0;
  double float_value = 0;
};

// Jinja reads "\r\n" and "\r" in the template as "\n" and drops one trailing newline;
// offsets in tokens and errors refer to this normalized text.
std::string normalize_source(std::string_view source);

// Throws TemplateError for unterminated tags, comments and strings, or stray characters.
std::vector<Token> tokenize(std::string_view source);

}  // namespace dsv2::jinja
