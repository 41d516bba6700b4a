// The parsed template: expression and statement nodes. Every node keeps the byte offset where it
// starts so that evaluation errors can point at it.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "tokenizer/jinja/value.h"

namespace dsv2::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Args {
  std::vector<ExprPtr> positional;
  std::vector<std::pair<std::string, ExprPtr>> keyword;
};

struct Literal { Value value; };
struct Name { std::string id; };
struct ListExpr { std::vector<ExprPtr> items; };
struct DictExpr { std::vector<std::pair<ExprPtr, ExprPtr>> items; };
enum class UnaryOp { Not, Neg, Pos };
struct Unary { UnaryOp op; ExprPtr operand; };
// And/Or short-circuit and yield an operand, like Python; the rest evaluate both sides.
enum class BinaryOp { And, Or, Add, Sub, Mul, Div, FloorDiv, Mod, Pow, Concat, Eq, Ne, Lt, Le, Gt, Ge, In, NotIn };
struct Binary { BinaryOp op; ExprPtr lhs, rhs; };
// a < b <= c chains like Python: each operand is evaluated once, stopping at the first false.
struct Compare {
  ExprPtr first;
  std::vector<std::pair<BinaryOp, ExprPtr>> rest;
};
struct GetAttr { ExprPtr object; std::string attr; };
struct GetItem { ExprPtr object, index; };
struct Slice { ExprPtr object, start, stop, step; };  // missing bounds are null
struct Call { ExprPtr callee; Args args; };
struct FilterExpr { ExprPtr operand; std::string name; Args args; };
struct TestExpr { ExprPtr operand; std::string name; Args args; bool negated; };
struct CondExpr { ExprPtr cond, then, otherwise; };  // otherwise may be null: yields Undefined

struct Expr {
  std::size_t offset;
  std::variant<Literal, Name, ListExpr, DictExpr, Unary, Binary, Compare, GetAttr, GetItem, Slice, Call, FilterExpr, TestExpr,
               CondExpr>
      node;
};

struct Stmt;
using Body = std::vector<Stmt>;

struct TextStmt { std::string text; };
struct OutputStmt { ExprPtr expr; };
struct IfStmt {
  std::vector<std::pair<ExprPtr, Body>> branches;  // if and each elif
  Body otherwise;
};
struct ForStmt {
  std::vector<std::string> targets;  // one name, or several to unpack (k, v)
  ExprPtr iterable;
  ExprPtr filter;  // {% for x in xs if cond %}; may be null
  Body body;
  Body otherwise;  // {% else %}: runs when no item was visited
};
// {% set x = v %}, {% set ns.attr = v %}, or the block form {% set x %}...{% endset %}.
struct SetStmt {
  std::vector<std::string> targets;
  std::string attribute;  // non-empty for ns.attr
  ExprPtr value;          // null for the block form
  Body body;
};
struct BreakStmt {};
struct ContinueStmt {};
// {% generation %}...{% endgeneration %} (transformers' assistant-mask extension) renders its body.
struct BlockStmt { Body body; };

struct Stmt {
  std::size_t offset;
  std::variant<TextStmt, OutputStmt, IfStmt, ForStmt, SetStmt, BreakStmt, ContinueStmt, BlockStmt> node;
};

}  // namespace dsv2::jinja
