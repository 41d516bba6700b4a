// The Parser class shared by parser.cpp (statements) and parser_expressions.cpp (expressions).
// Internal to the jinja/ folder.
#pragma once
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/jinja/ast.h"
#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/lexer.h"

namespace dsv2::jinja::detail {

// Deeper nesting than this is rejected rather than risking the stack (parsing, evaluating and
// destroying the tree all recurse). Real templates nest a handful of levels.
inline constexpr int kMaxDepth = 100;

template <typename Node>
inline ExprPtr make(std::size_t offset, Node node) {
  return std::make_unique<Expr>(Expr{offset, std::move(node)});
}

inline bool is_closer(const std::string& tag) { return tag.starts_with("end") || tag == "elif" || tag == "else"; }

inline std::string describe(const Token& t) {
  switch (t.kind) {
    case TokenKind::Eof: return "end of template";
    case TokenKind::Text: return "text";
    case TokenKind::String: return "string literal";
    default: return "'" + t.text + "'";
  }
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  Body parse_template() { return parse_body({}, 0); }

 private:
  // ---- tokens ----
  const Token& peek(std::size_t ahead = 0) const { return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)]; }
  const Token& next() {
    const Token& t = peek();
    if (pos_ < tokens_.size() - 1) ++pos_;
    return t;
  }
  bool at_op(std::string_view op, std::size_t ahead = 0) const {
    return peek(ahead).kind == TokenKind::Op && peek(ahead).text == op;
  }
  bool at_name(std::string_view name, std::size_t ahead = 0) const {
    return peek(ahead).kind == TokenKind::Name && peek(ahead).text == name;
  }
  bool skip_op(std::string_view op) { return at_op(op) ? (next(), true) : false; }
  bool skip_name(std::string_view name) { return at_name(name) ? (next(), true) : false; }
  [[noreturn]] static void fail(const std::string& message, const Token& at) { throw TemplateError(message, at.offset); }
  void expect_op(std::string_view op) {
    if (!skip_op(op)) fail("expected '" + std::string(op) + "', got " + describe(peek()), peek());
  }
  std::string expect_name(std::string_view what) {
    if (peek().kind != TokenKind::Name) fail("expected " + std::string(what) + ", got " + describe(peek()), peek());
    return next().text;
  }
  void expect_block_end(std::string_view tag) {
    if (peek().kind != TokenKind::BlockEnd)
      fail("expected '%}' to close '" + std::string(tag) + "', got " + describe(peek()), peek());
    next();
  }

  // Counts nesting; chains (a + b + c, x|f|g, a.b.c) nest too, one level per link.
  class Depth {
   public:
    Depth(Parser& p, std::size_t offset) : p_(p), saved_(p.depth_) { deeper(offset); }
    ~Depth() { p_.depth_ = saved_; }
    Depth(const Depth&) = delete;
    Depth& operator=(const Depth&) = delete;
    void deeper(std::size_t offset) {
      if (++p_.depth_ > kMaxDepth) throw TemplateError("template is nested too deeply", offset);
    }

   private:
    Parser& p_;
    int saved_;
  };

  // ---- statements ----
  Body parse_body(std::initializer_list<std::string_view> stops, std::size_t open_offset);
  void parse_tag(Body& body);
  std::string end_tag();
  Stmt parse_if(std::size_t offset);
  Stmt parse_for(std::size_t offset);
  Stmt parse_set(std::size_t offset);
  Stmt parse_loop_control(const Token& tag);
  Stmt parse_generation(std::size_t offset);

  // ---- expressions, lowest precedence first ----
  ExprPtr parse_expression(bool with_condition = true);
  ExprPtr parse_tuple();
  ExprPtr parse_or();
  ExprPtr parse_and();
  ExprPtr parse_not();
  ExprPtr parse_compare();
  ExprPtr parse_math1();
  ExprPtr parse_concat();
  ExprPtr parse_math2();
  ExprPtr parse_pow();
  ExprPtr parse_unary(bool with_filters);
  ExprPtr parse_primary();
  ExprPtr parse_sequence(std::size_t offset, std::string_view close);
  ExprPtr parse_dict(std::size_t offset);
  ExprPtr parse_postfix(ExprPtr node);
  ExprPtr parse_subscript(ExprPtr node);
  ExprPtr parse_filters(ExprPtr node);
  ExprPtr parse_test(ExprPtr node);
  Args parse_args();

  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;  // break/continue are only valid inside a for body
};

}  // namespace dsv2::jinja::detail
