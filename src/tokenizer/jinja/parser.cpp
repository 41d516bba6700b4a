#include "tokenizer/jinja/parser.h"

#include <algorithm>

#include "tokenizer/jinja/parser_impl.h"

namespace dsv2::jinja {

namespace detail {

// Parses statements until a {% tag %} named in stops (left unconsumed) or the end.
Body Parser::parse_body(std::initializer_list<std::string_view> stops, std::size_t open_offset) {
  Depth depth(*this, open_offset);
  Body body;
  for (;;) {
    const Token& t = peek();
    if (t.kind == TokenKind::Text) {
      body.push_back(Stmt{t.offset, TextStmt{next().text}});
    } else if (t.kind == TokenKind::VarBegin) {
      next();
      ExprPtr expr = parse_tuple();
      if (peek().kind != TokenKind::VarEnd) fail("expected '}}', got " + describe(peek()), peek());
      next();
      body.push_back(Stmt{t.offset, OutputStmt{std::move(expr)}});
    } else if (t.kind == TokenKind::BlockBegin) {
      if (peek(1).kind != TokenKind::Name) fail("expected a tag name after '{%', got " + describe(peek(1)), peek(1));
      if (std::find(stops.begin(), stops.end(), peek(1).text) != stops.end()) return body;
      if (stops.size() != 0 && is_closer(peek(1).text))
        fail("unexpected tag '" + peek(1).text + "', expected '" + std::string(*(stops.end() - 1)) + "'", peek(1));
      parse_tag(body);
    } else {  // end of template
      if (stops.size() == 0) return body;
      throw TemplateError("unclosed block: '{% " + std::string(*(stops.end() - 1)) + " %}' is missing", open_offset);
    }
  }
}

void Parser::parse_tag(Body& body) {
  const std::size_t offset = next().offset;  // "{%"
  const Token& tag = next();
  if (tag.text == "if") body.push_back(parse_if(offset));
  else if (tag.text == "for") body.push_back(parse_for(offset));
  else if (tag.text == "set") body.push_back(parse_set(offset));
  else if (tag.text == "break" || tag.text == "continue") body.push_back(parse_loop_control(tag));
  else if (tag.text == "generation") body.push_back(parse_generation(offset));
  else if (is_closer(tag.text))
    fail("unexpected tag '" + tag.text + "' (no open block ends with it)", tag);
  else
    fail("unsupported tag '" + tag.text + "'", tag);
}

// Consumes "{% name" of a tag parse_body stopped at and returns the name.
std::string Parser::end_tag() {
  next();
  return next().text;
}

Stmt Parser::parse_if(std::size_t offset) {
  IfStmt stmt;
  ExprPtr cond = parse_expression();
  expect_block_end("if");
  for (;;) {
    Body body = parse_body({"elif", "else", "endif"}, offset);
    stmt.branches.emplace_back(std::move(cond), std::move(body));
    const std::string tag = end_tag();
    if (tag == "elif") {
      cond = parse_expression();
      expect_block_end("elif");
      continue;
    }
    expect_block_end(tag);
    if (tag == "else") {
      stmt.otherwise = parse_body({"endif"}, offset);
      end_tag();
      expect_block_end("endif");
    }
    return Stmt{offset, std::move(stmt)};
  }
}

Stmt Parser::parse_for(std::size_t offset) {
  ForStmt stmt;
  do stmt.targets.push_back(expect_name("a loop variable name"));
  while (skip_op(","));
  if (!skip_name("in")) fail("expected 'in' in for loop, got " + describe(peek()), peek());
  stmt.iterable = parse_expression(false);
  if (skip_name("if")) stmt.filter = parse_expression(false);
  if (at_name("recursive")) fail("unsupported construct 'recursive' loop", peek());
  expect_block_end("for");
  ++loop_depth_;
  stmt.body = parse_body({"else", "endfor"}, offset);
  --loop_depth_;
  if (end_tag() == "else") {
    expect_block_end("else");
    stmt.otherwise = parse_body({"endfor"}, offset);
    end_tag();
  }
  expect_block_end("endfor");
  return Stmt{offset, std::move(stmt)};
}

Stmt Parser::parse_set(std::size_t offset) {
  SetStmt stmt;
  stmt.targets.push_back(expect_name("a variable name"));
  if (skip_op(".")) {
    stmt.attribute = expect_name("an attribute name");
  } else {
    while (skip_op(",")) stmt.targets.push_back(expect_name("a variable name"));
  }
  if (skip_op("=")) {
    stmt.value = parse_tuple();
    expect_block_end("set");
    return Stmt{offset, std::move(stmt)};
  }
  if (stmt.targets.size() > 1) fail("expected '=' after the names to unpack, got " + describe(peek()), peek());
  expect_block_end("set");
  stmt.body = parse_body({"endset"}, offset);
  end_tag();
  expect_block_end("endset");
  return Stmt{offset, std::move(stmt)};
}

Stmt Parser::parse_loop_control(const Token& tag) {
  if (loop_depth_ == 0) fail("'" + tag.text + "' outside of a for loop", tag);
  expect_block_end(tag.text);
  if (tag.text == "break") return Stmt{tag.offset, BreakStmt{}};
  return Stmt{tag.offset, ContinueStmt{}};
}

Stmt Parser::parse_generation(std::size_t offset) {
  expect_block_end("generation");
  BlockStmt stmt{parse_body({"endgeneration"}, offset)};
  end_tag();
  expect_block_end("endgeneration");
  return Stmt{offset, std::move(stmt)};
}

}  // namespace detail

Body parse(std::vector<Token> tokens) { return detail::Parser(std::move(tokens)).parse_template(); }

}  // namespace dsv2::jinja
