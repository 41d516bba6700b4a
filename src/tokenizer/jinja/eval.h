// Renders a parsed template: executes statements, evaluates expressions, and keeps Jinja's
// scoping (each for-loop iteration gets its own scope, so `set` inside a loop body does not leak
// out; `if` bodies share the enclosing scope; namespace() objects carry state out of loops).
#pragma once
#include <string>
#include <unordered_map>
#include <vector>

#include "tokenizer/jinja/ast.h"
#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/value.h"

namespace dsv2::jinja {

class Evaluator {
 public:
  // variables: what the template sees at top level (messages, bos_token, ...).
  explicit Evaluator(const Dict& variables);
  // Throws TemplateError with the offset of the failing node.
  std::string render(const Body& body);

 private:
  enum class Flow { Normal, Break, Continue };
  using Scope = std::unordered_map<std::string, Value>;

  Flow exec(const Body& body);
  Flow exec(const Stmt& stmt);
  Flow exec_node(const TextStmt& s, const Stmt& stmt);
  Flow exec_node(const OutputStmt& s, const Stmt& stmt);
  Flow exec_node(const IfStmt& s, const Stmt& stmt);
  Flow exec_node(const ForStmt& s, const Stmt& stmt);
  Flow exec_node(const SetStmt& s, const Stmt& stmt);
  Flow exec_node(const BreakStmt& s, const Stmt& stmt);
  Flow exec_node(const ContinueStmt& s, const Stmt& stmt);
  Flow exec_node(const BlockStmt& s, const Stmt& stmt);
  void bind_targets(Scope& scope, const std::vector<std::string>& targets, const Value& item);
  List filter_loop_items(const ForStmt& s, List items);
  void append_output(const std::string& text);

  Value eval(const Expr& expr);
  Value eval_node(const Literal& e);
  Value eval_node(const Name& e);
  Value eval_node(const ListExpr& e);
  Value eval_node(const DictExpr& e);
  Value eval_node(const Unary& e);
  Value eval_node(const Binary& e);
  Value eval_node(const Compare& e);
  Value eval_node(const GetAttr& e);
  Value eval_node(const GetItem& e);
  Value eval_node(const Slice& e);
  Value eval_node(const Call& e);
  Value eval_node(const FilterExpr& e);
  Value eval_node(const TestExpr& e);
  Value eval_node(const CondExpr& e);
  Value eval_optional(const ExprPtr& expr) { return expr ? eval(*expr) : Value(); }
  CallArgs eval_args(const Args& args);

  const Value* lookup(const std::string& name) const;

  std::vector<Scope> scopes_;  // scopes_[0]: the variables and top-level sets
  std::string out_;
};

}  // namespace dsv2::jinja
