#include "tokenizer/jinja/lexer.h"

#include <cctype>
#include <charconv>
#include <cmath>

#include "tokenizer/jinja/error.h"
#include "tokenizer/utf8.h"

namespace dsv2::jinja {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

void rstrip(std::string& text) {
  while (!text.empty() && is_space(text.back())) text.pop_back();
}

// lstrip_blocks: drop the spaces and tabs that a block or comment tag is indented by, but only
// when nothing else precedes the tag on its line. line_starting says whether the text began
// right at a line start (the template start, or just after a tag that ended in a newline).
void lstrip_line(std::string& text, bool line_starting) {
  const auto newline = text.rfind('\n');
  const std::size_t line_pos = newline == std::string::npos ? 0 : newline + 1;
  if (line_pos == 0 && !line_starting) return;
  for (std::size_t i = line_pos; i < text.size(); ++i)
    if (!is_space(text[i])) return;
  text.resize(line_pos);
}

class Lexer {
 public:
  explicit Lexer(std::string_view source) : src_(source) {}
  std::vector<Token> run();

 private:
  void emit(TokenKind kind, std::string text, std::size_t offset) {
    tokens_.push_back(Token{kind, std::move(text), offset});
  }
  void skip_comment(std::size_t open);
  void lex_tag(char kind, std::size_t open);
  bool try_tag_end(char kind);
  void after_tag_end(char sign, bool trim_newline);
  void lex_number();
  void lex_string();
  void lex_operator();
  std::uint32_t lex_escape(std::size_t& i, std::size_t open);

  std::string_view src_;
  std::size_t pos_ = 0;
  bool line_starting_ = true;
  std::string brackets_;  // open brackets inside the current tag: "}}" in {{ {'a': {}} }} is no end
  std::vector<Token> tokens_;
};

std::vector<Token> Lexer::run() {
  while (pos_ < src_.size()) {
    std::size_t open = pos_;
    while ((open = src_.find('{', open)) != std::string_view::npos) {
      if (open + 1 < src_.size() && (src_[open + 1] == '{' || src_[open + 1] == '%' || src_[open + 1] == '#')) break;
      ++open;
    }
    std::string text(src_.substr(pos_, open == std::string_view::npos ? std::string_view::npos : open - pos_));
    if (open == std::string_view::npos) {
      if (!text.empty()) emit(TokenKind::Text, std::move(text), pos_);
      break;
    }
    const char kind = src_[open + 1];
    const char sign = open + 2 < src_.size() ? src_[open + 2] : '\0';
    if (sign == '-') rstrip(text);
    else if (sign != '+' && kind != '{') lstrip_line(text, line_starting_);
    if (!text.empty()) emit(TokenKind::Text, std::move(text), pos_);
    pos_ = open + 2 + (sign == '-' || sign == '+' ? 1 : 0);
    if (kind == '#') skip_comment(open);
    else lex_tag(kind, open);
  }
  emit(TokenKind::Eof, "", src_.size());
  return std::move(tokens_);
}

void Lexer::skip_comment(std::size_t open) {
  const auto close = src_.find("#}", pos_);
  if (close == std::string_view::npos) throw TemplateError("unclosed comment", open);
  const char sign = close > pos_ && (src_[close - 1] == '-' || src_[close - 1] == '+') ? src_[close - 1] : '\0';
  pos_ = close + 2;
  after_tag_end(sign, true);
}

// After "%}" or "#}": "-" eats all following whitespace, trim_blocks eats one newline unless
// the tag ends in "+%}".
void Lexer::after_tag_end(char sign, bool trim_newline) {
  const std::size_t start = pos_;
  if (sign == '-') {
    while (pos_ < src_.size() && is_space(src_[pos_])) ++pos_;
  } else if (sign != '+' && trim_newline && pos_ < src_.size() && src_[pos_] == '\n') {
    ++pos_;
  }
  line_starting_ = pos_ > start ? src_[pos_ - 1] == '\n' : false;
}

void Lexer::lex_tag(char kind, std::size_t open) {
  emit(kind == '{' ? TokenKind::VarBegin : TokenKind::BlockBegin, kind == '{' ? "{{" : "{%", open);
  brackets_.clear();
  for (;;) {
    while (pos_ < src_.size() && is_space(src_[pos_])) ++pos_;
    if (pos_ >= src_.size())
      throw TemplateError(std::string("unclosed tag '") + (kind == '{' ? "{{" : "{%") + "'", open);
    if (brackets_.empty() && try_tag_end(kind)) return;
    const char c = src_[pos_];
    if (is_name_start(c)) {
      const std::size_t start = pos_;
      while (pos_ < src_.size() && is_name_char(src_[pos_])) ++pos_;
      emit(TokenKind::Name, std::string(src_.substr(start, pos_ - start)), start);
    } else if (is_digit(c)) {
      lex_number();
    } else if (c == '\'' || c == '"') {
      lex_string();
    } else {
      lex_operator();
    }
  }
}

bool Lexer::try_tag_end(char kind) {
  const std::string_view close = kind == '{' ? "}}" : "%}";
  const std::string_view rest = src_.substr(pos_);
  char sign = '\0';
  if (rest.starts_with(close)) {
    pos_ += 2;
  } else if ((rest[0] == '-' || (rest[0] == '+' && kind == '%')) && rest.substr(1).starts_with(close)) {
    sign = rest[0];
    pos_ += 3;
  } else {
    return false;
  }
  emit(kind == '{' ? TokenKind::VarEnd : TokenKind::BlockEnd, std::string(close), pos_ - 2);
  after_tag_end(sign, kind == '%');
  return true;
}

void Lexer::lex_number() {
  const std::size_t start = pos_;
  auto digits = [&] {
    while (pos_ < src_.size() && (is_digit(src_[pos_]) || (src_[pos_] == '_' && pos_ + 1 < src_.size() && is_digit(src_[pos_ + 1]))))
      ++pos_;
  };
  digits();
  bool is_float = false;
  // After a '.', "0" is an index (items.0), never the start of a float, as in Jinja.
  const bool after_dot = !tokens_.empty() && tokens_.back().kind == TokenKind::Op && tokens_.back().text == ".";
  if (!after_dot && pos_ + 1 < src_.size() && src_[pos_] == '.' && is_digit(src_[pos_ + 1])) {
    ++pos_;
    digits();
    is_float = true;
  }
  if (!after_dot && pos_ < src_.size() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
    std::size_t p = pos_ + 1;
    if (p < src_.size() && (src_[p] == '+' || src_[p] == '-')) ++p;
    if (p < src_.size() && is_digit(src_[p])) {
      pos_ = p;
      digits();
      is_float = true;
    }
  }
  std::string text;
  for (char c : src_.substr(start, pos_ - start))
    if (c != '_') text += c;
  Token token{is_float ? TokenKind::Float : TokenKind::Int, text, start};
  if (is_float) {
    token.float_value = std::strtod(text.c_str(), nullptr);
  } else if (std::from_chars(text.data(), text.data() + text.size(), token.int_value).ec != std::errc()) {
    throw TemplateError("integer literal " + text + " is out of range", start);
  }
  tokens_.push_back(std::move(token));
}

// Python string escapes, as Jinja decodes them; an unknown escape keeps its backslash.
std::uint32_t Lexer::lex_escape(std::size_t& i, std::size_t open) {
  const char c = src_[i++];
  switch (c) {
    case 'n': return '\n';
    case 't': return '\t';
    case 'r': return '\r';
    case 'a': return '\a';
    case 'b': return '\b';
    case 'f': return '\f';
    case 'v': return '\v';
    case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
      std::uint32_t value = static_cast<std::uint32_t>(c - '0');
      for (int k = 0; k < 2 && i < src_.size() && src_[i] >= '0' && src_[i] <= '7'; ++k)
        value = value * 8 + static_cast<std::uint32_t>(src_[i++] - '0');
      return value;
    }
    case 'x': case 'u': case 'U': {
      const std::size_t len = c == 'x' ? 2 : (c == 'u' ? 4 : 8);
      std::uint32_t value = 0;
      const auto res = i + len <= src_.size() ? std::from_chars(src_.data() + i, src_.data() + i + len, value, 16)
                                              : std::from_chars_result{nullptr, std::errc::invalid_argument};
      if (res.ec != std::errc() || res.ptr != src_.data() + i + len || value > 0x10FFFF)
        throw TemplateError(std::string("invalid \\") + c + " escape in string literal", open);
      i += len;
      return value;
    }
    default: return 0xFFFFFFFF;  // not an escape
  }
}

void Lexer::lex_string() {
  const std::size_t open = pos_;
  const char quote = src_[pos_++];
  std::string value;
  for (;;) {
    if (pos_ >= src_.size()) throw TemplateError("unterminated string literal", open);
    const char c = src_[pos_++];
    if (c == quote) break;
    if (c != '\\' || pos_ >= src_.size()) {
      value += c;
      continue;
    }
    const char next = src_[pos_];
    if (next == '\\' || next == '\'' || next == '"' || next == '\n') {
      ++pos_;
      if (next != '\n') value += next;  // backslash-newline is a line continuation
      continue;
    }
    const std::size_t at = pos_;
    const std::uint32_t cp = lex_escape(pos_, open);
    if (cp == 0xFFFFFFFF) {
      value += '\\';
      pos_ = at;
    } else {
      utf8::append(value, cp);
    }
  }
  tokens_.push_back(Token{TokenKind::String, std::move(value), open});
}

void Lexer::lex_operator() {
  static constexpr std::string_view kTwo[] = {"//", "**", "==", "!=", "<=", ">="};
  static constexpr std::string_view kOne = "+-*/%~<>()[]{},.:|=";
  const std::string_view rest = src_.substr(pos_);
  for (std::string_view op : kTwo) {
    if (rest.starts_with(op)) {
      emit(TokenKind::Op, std::string(op), pos_);
      pos_ += 2;
      return;
    }
  }
  const char c = rest[0];
  if (kOne.find(c) == std::string_view::npos) {
    throw TemplateError("unexpected character '" + std::string(src_.substr(pos_, utf8::char_size(src_, pos_))) + "'", pos_);
  }
  if (c == '(' || c == '[' || c == '{') brackets_ += c == '(' ? ')' : (c == '[' ? ']' : '}');
  if (c == ')' || c == ']' || c == '}') {
    if (brackets_.empty()) throw TemplateError(std::string("unexpected '") + c + "'", pos_);
    if (brackets_.back() != c)
      throw TemplateError(std::string("unexpected '") + c + "', expected '" + brackets_.back() + "'", pos_);
    brackets_.pop_back();
  }
  emit(TokenKind::Op, std::string(1, c), pos_++);
}

}  // namespace

std::string normalize_source(std::string_view source) {
  std::string out;
  out.reserve(source.size());
  for (std::size_t i = 0; i < source.size(); ++i) {
    if (source[i] != '\r') {
      out += source[i];
      continue;
    }
    out += '\n';
    if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::vector<Token> tokenize(std::string_view source) { return Lexer(source).run(); }

}  // namespace dsv2::jinja
