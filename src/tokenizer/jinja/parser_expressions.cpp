// Expression parsing: precedence climbing in Jinja's order (lowest first): inline if, or, and,
// not, comparisons, + -, ~, * / // %, **, unary - +, then postfix (. [] ()) and filters/tests.
#include <optional>

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/parser_impl.h"

namespace dsv2::jinja::detail {

ExprPtr Parser::parse_expression(bool with_condition) {
  ExprPtr expr = parse_or();
  Depth depth(*this, expr->offset);
  while (with_condition && at_name("if")) {
    const std::size_t offset = next().offset;
    depth.deeper(offset);
    ExprPtr cond = parse_or();
    ExprPtr otherwise = skip_name("else") ? parse_expression() : nullptr;
    expr = make(offset, CondExpr{std::move(cond), std::move(expr), std::move(otherwise)});
  }
  return expr;
}

// `{{ a, b }}` and `{% set x = a, b %}` build a tuple (a list here).
ExprPtr Parser::parse_tuple() {
  ExprPtr first = parse_expression();
  if (!at_op(",")) return first;
  ListExpr list;
  const std::size_t offset = first->offset;
  list.items.push_back(std::move(first));
  while (skip_op(",")) {
    if (peek().kind == TokenKind::VarEnd || peek().kind == TokenKind::BlockEnd) break;
    list.items.push_back(parse_expression());
  }
  return make(offset, std::move(list));
}

ExprPtr Parser::parse_or() {
  ExprPtr lhs = parse_and();
  Depth depth(*this, lhs->offset);
  while (at_name("or")) {
    const std::size_t at = next().offset;
    depth.deeper(at);
    lhs = make(at, Binary{BinaryOp::Or, std::move(lhs), parse_and()});
  }
  return lhs;
}

ExprPtr Parser::parse_and() {
  ExprPtr lhs = parse_not();
  Depth depth(*this, lhs->offset);
  while (at_name("and")) {
    const std::size_t at = next().offset;
    depth.deeper(at);
    lhs = make(at, Binary{BinaryOp::And, std::move(lhs), parse_not()});
  }
  return lhs;
}

ExprPtr Parser::parse_not() {
  if (!at_name("not")) return parse_compare();
  const std::size_t offset = next().offset;
  Depth depth(*this, offset);
  return make(offset, Unary{UnaryOp::Not, parse_not()});
}

ExprPtr Parser::parse_compare() {
  static const std::pair<std::string_view, BinaryOp> kOps[] = {{"==", BinaryOp::Eq}, {"!=", BinaryOp::Ne},
                                                               {"<", BinaryOp::Lt},  {"<=", BinaryOp::Le},
                                                               {">", BinaryOp::Gt},  {">=", BinaryOp::Ge}};
  ExprPtr first = parse_math1();
  Compare compare;
  Depth depth(*this, first->offset);
  const std::size_t at = peek().offset;  // the first operator, if any: errors point there
  for (;;) {
    std::optional<BinaryOp> op;
    for (const auto& [spelling, o] : kOps)
      if (at_op(spelling)) op = o;
    if (op) next();
    else if (skip_name("in")) op = BinaryOp::In;
    else if (at_name("not") && at_name("in", 1)) op = (next(), next(), BinaryOp::NotIn);
    else break;
    depth.deeper(peek().offset);
    compare.rest.emplace_back(*op, parse_math1());
  }
  if (compare.rest.empty()) return first;
  compare.first = std::move(first);
  return make(at, std::move(compare));
}

ExprPtr Parser::parse_math1() {
  ExprPtr lhs = parse_concat();
  Depth depth(*this, lhs->offset);
  while (at_op("+") || at_op("-")) {
    const Token& op = next();
    depth.deeper(op.offset);
    lhs = make(op.offset, Binary{op.text == "+" ? BinaryOp::Add : BinaryOp::Sub, std::move(lhs), parse_concat()});
  }
  return lhs;
}

ExprPtr Parser::parse_concat() {
  ExprPtr lhs = parse_math2();
  Depth depth(*this, lhs->offset);
  while (at_op("~")) {
    const std::size_t at = next().offset;
    depth.deeper(at);
    lhs = make(at, Binary{BinaryOp::Concat, std::move(lhs), parse_math2()});
  }
  return lhs;
}

ExprPtr Parser::parse_math2() {
  ExprPtr lhs = parse_pow();
  Depth depth(*this, lhs->offset);
  for (;;) {
    BinaryOp op;
    if (at_op("*")) op = BinaryOp::Mul;
    else if (at_op("/")) op = BinaryOp::Div;
    else if (at_op("//")) op = BinaryOp::FloorDiv;
    else if (at_op("%")) op = BinaryOp::Mod;
    else return lhs;
    const std::size_t at = next().offset;
    depth.deeper(at);
    lhs = make(at, Binary{op, std::move(lhs), parse_pow()});
  }
}

ExprPtr Parser::parse_pow() {
  ExprPtr lhs = parse_unary(true);
  Depth depth(*this, lhs->offset);
  while (at_op("**")) {
    const std::size_t at = next().offset;
    depth.deeper(at);
    lhs = make(at, Binary{BinaryOp::Pow, std::move(lhs), parse_unary(true)});
  }
  return lhs;
}

// Filters and tests bind tighter than binary operators but looser than unary minus:
// `-x|abs` is (-x)|abs, `a ~ b|upper` is a ~ (b|upper).
ExprPtr Parser::parse_unary(bool with_filters) {
  Depth depth(*this, peek().offset);
  ExprPtr node;
  if (at_op("-") || at_op("+")) {
    const Token& op = next();
    node = make(op.offset, Unary{op.text == "-" ? UnaryOp::Neg : UnaryOp::Pos, parse_unary(false)});
  } else {
    node = parse_primary();
  }
  node = parse_postfix(std::move(node));
  if (with_filters) node = parse_filters(std::move(node));
  return node;
}

ExprPtr Parser::parse_primary() {
  const Token& t = peek();
  switch (t.kind) {
    case TokenKind::Name: {
      next();
      if (t.text == "true" || t.text == "True") return make(t.offset, Literal{Value(true)});
      if (t.text == "false" || t.text == "False") return make(t.offset, Literal{Value(false)});
      if (t.text == "none" || t.text == "None") return make(t.offset, Literal{Value(None{})});
      return make(t.offset, Name{t.text});
    }
    case TokenKind::String: {
      std::string text;  // adjacent literals concatenate, as in Python
      while (peek().kind == TokenKind::String) text += next().text;
      return make(t.offset, Literal{Value(std::move(text))});
    }
    case TokenKind::Int: return make(next().offset, Literal{Value(t.int_value)});
    case TokenKind::Float: return make(next().offset, Literal{Value(t.float_value)});
    default: break;
  }
  if (skip_op("(")) {
    if (skip_op(")")) return make(t.offset, ListExpr{});
    ExprPtr inner = parse_expression();
    if (at_op(",")) {
      ListExpr tuple;
      tuple.items.push_back(std::move(inner));
      while (skip_op(",") && !at_op(")")) tuple.items.push_back(parse_expression());
      inner = make(t.offset, std::move(tuple));
    }
    expect_op(")");
    return inner;
  }
  if (skip_op("[")) return parse_sequence(t.offset, "]");
  if (skip_op("{")) return parse_dict(t.offset);
  fail("unexpected " + describe(t) + " in expression", t);
}

ExprPtr Parser::parse_sequence(std::size_t offset, std::string_view close) {
  ListExpr list;
  while (!skip_op(close)) {
    list.items.push_back(parse_expression());
    if (!at_op(close)) expect_op(",");
  }
  return make(offset, std::move(list));
}

ExprPtr Parser::parse_dict(std::size_t offset) {
  DictExpr dict;
  while (!skip_op("}")) {
    ExprPtr key = parse_expression();
    expect_op(":");
    dict.items.emplace_back(std::move(key), parse_expression());
    if (!at_op("}")) expect_op(",");
  }
  return make(offset, std::move(dict));
}

ExprPtr Parser::parse_postfix(ExprPtr node) {
  Depth depth(*this, node->offset);
  const std::size_t start = node->offset;  // calls are reported where the callee starts
  for (;;) {
    const Token& t = peek();
    if (skip_op(".")) {
      if (peek().kind == TokenKind::Int) {  // items.0 is items[0]
        const Token& index = next();
        node = make(t.offset, GetItem{std::move(node), make(index.offset, Literal{Value(index.int_value)})});
      } else {
        node = make(t.offset, GetAttr{std::move(node), expect_name("an attribute name after '.'")});
      }
    } else if (skip_op("[")) {
      node = parse_subscript(std::move(node));
    } else if (at_op("(")) {
      node = make(start, Call{std::move(node), parse_args()});
    } else {
      return node;
    }
    depth.deeper(t.offset);
  }
}

// After '[': an index, or a Python slice with any of start:stop:step left out.
ExprPtr Parser::parse_subscript(ExprPtr node) {
  const std::size_t offset = node->offset;
  ExprPtr start = at_op(":") ? nullptr : parse_expression();
  if (!skip_op(":")) {
    expect_op("]");
    return make(offset, GetItem{std::move(node), std::move(start)});
  }
  ExprPtr stop = at_op("]") || at_op(":") ? nullptr : parse_expression();
  ExprPtr step = skip_op(":") && !at_op("]") ? parse_expression() : nullptr;
  expect_op("]");
  return make(offset, Slice{std::move(node), std::move(start), std::move(stop), std::move(step)});
}

ExprPtr Parser::parse_filters(ExprPtr node) {
  Depth depth(*this, node->offset);
  for (;;) {
    if (at_name("is")) {
      node = parse_test(std::move(node));
    } else if (skip_op("|")) {
      const Token& name = peek();
      std::string filter = expect_name("a filter name after '|'");
      if (!is_filter(filter)) fail("unknown filter '" + filter + "'", name);
      Args args = at_op("(") ? parse_args() : Args{};
      node = make(name.offset, FilterExpr{std::move(node), std::move(filter), std::move(args)});
    } else {
      return node;
    }
    depth.deeper(node->offset);
  }
}

ExprPtr Parser::parse_test(ExprPtr node) {
  next();  // "is"
  const bool negated = skip_name("not");
  const Token& name = peek();
  std::string test = expect_name("a test name after 'is'");
  if (!is_test(test)) fail("unknown test '" + test + "'", name);
  Args args;
  const Token& t = peek();
  const bool bare_arg = t.kind == TokenKind::String || t.kind == TokenKind::Int || t.kind == TokenKind::Float ||
                        at_op("[") || at_op("{") ||
                        (t.kind == TokenKind::Name && !at_name("else") && !at_name("or") && !at_name("and") &&
                         !at_name("if") && !at_name("in") && !at_name("not") && !at_name("is"));
  if (at_op("(")) args = parse_args();
  else if (bare_arg) args.positional.push_back(parse_postfix(parse_primary()));  // `is divisibleby 3`
  return make(name.offset, TestExpr{std::move(node), std::move(test), std::move(args), negated});
}

Args Parser::parse_args() {
  expect_op("(");
  Args args;
  while (!skip_op(")")) {
    if (peek().kind == TokenKind::Name && at_op("=", 1)) {
      std::string key = next().text;
      next();
      args.keyword.emplace_back(std::move(key), parse_expression());
    } else {
      if (!args.keyword.empty()) fail("positional argument follows keyword argument", peek());
      args.positional.push_back(parse_expression());
    }
    if (!at_op(")")) expect_op(",");
  }
  return args;
}

}  // namespace dsv2::jinja::detail
