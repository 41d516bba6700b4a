#include "tokenizer/jinja/eval.h"

#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/ops.h"

namespace dsv2::jinja {

namespace {

// Output and string sizes past these fail cleanly instead of exhausting memory
// (e.g. doubling a namespace string in a loop).
constexpr std::size_t kMaxStringBytes = std::size_t{1} << 28;
// namespace() attributes are the only way to carry a value from one loop iteration to the next,
// so they are the only way to build unboundedly nested (or self-containing) values.
constexpr int kMaxNamespaceNesting = 64;

bool storable_in_namespace(const Value& v, int depth) {
  if (depth > kMaxNamespaceNesting || v.is<Value::NamespacePtr>()) return false;
  if (v.is<Value::ListPtr>()) {
    for (const auto& item : v.list())
      if (!storable_in_namespace(item, depth + 1)) return false;
  } else if (v.is<Value::DictPtr>()) {
    for (const auto& [key, item] : v.dict().items())
      if (!storable_in_namespace(item, depth + 1)) return false;
  }
  return true;
}

Dict loop_info(const List& items, std::size_t i) {
  const auto n = static_cast<std::int64_t>(items.size());
  const auto index = static_cast<std::int64_t>(i);
  Dict loop;
  loop.set("index", Value(index + 1));
  loop.set("index0", Value(index));
  loop.set("revindex", Value(n - index));
  loop.set("revindex0", Value(n - index - 1));
  loop.set("first", Value(i == 0));
  loop.set("last", Value(index == n - 1));
  loop.set("length", Value(n));
  loop.set("depth", Value(1));
  loop.set("depth0", Value(0));
  loop.set("previtem", i > 0 ? items[i - 1] : Value::undefined("there is no previous item"));
  loop.set("nextitem", index + 1 < n ? items[i + 1] : Value::undefined("there is no next item"));
  return loop;
}

// Keeps a pushed scope for exactly as long as the guard lives.
template <typename Stack>
class ScopeGuard {
 public:
  explicit ScopeGuard(Stack& stack) : stack_(stack) { stack_.emplace_back(); }
  ~ScopeGuard() { stack_.pop_back(); }
  ScopeGuard(const ScopeGuard&) = delete;
  ScopeGuard& operator=(const ScopeGuard&) = delete;

 private:
  Stack& stack_;
};

}  // namespace

Evaluator::Evaluator(const Dict& variables) {
  scopes_.emplace_back();
  for (const auto& [name, value] : variables.items()) scopes_[0][name] = value;
}

std::string Evaluator::render(const Body& body) {
  exec(body);
  return std::move(out_);
}

// ---- statements ----

Evaluator::Flow Evaluator::exec(const Body& body) {
  for (const Stmt& stmt : body) {
    const Flow flow = exec(stmt);
    if (flow != Flow::Normal) return flow;
  }
  return Flow::Normal;
}

Evaluator::Flow Evaluator::exec(const Stmt& stmt) {
  try {
    return std::visit([&](const auto& node) { return exec_node(node, stmt); }, stmt.node);
  } catch (TemplateError& e) {
    if (e.offset == kNoOffset) e.offset = stmt.offset;
    throw;
  }
}

void Evaluator::append_output(const std::string& text) {
  if (out_.size() + text.size() > kMaxStringBytes) throw TemplateError("rendered output is too large");
  out_ += text;
}

Evaluator::Flow Evaluator::exec_node(const TextStmt& s, const Stmt&) {
  append_output(s.text);
  return Flow::Normal;
}

Evaluator::Flow Evaluator::exec_node(const OutputStmt& s, const Stmt&) {
  append_output(to_str(eval(*s.expr)));
  return Flow::Normal;
}

Evaluator::Flow Evaluator::exec_node(const IfStmt& s, const Stmt&) {
  for (const auto& [cond, body] : s.branches)
    if (truthy(eval(*cond))) return exec(body);
  return exec(s.otherwise);
}

void Evaluator::bind_targets(Scope& scope, const std::vector<std::string>& targets, const Value& item) {
  if (targets.size() == 1) {
    scope[targets[0]] = item;
    return;
  }
  const List parts = iterate(item);
  if (parts.size() != targets.size())
    throw TemplateError("cannot unpack " + std::to_string(parts.size()) + " value(s) into " +
                        std::to_string(targets.size()) + " names");
  for (std::size_t i = 0; i < parts.size(); ++i) scope[targets[i]] = parts[i];
}

// {% for x in xs if cond %} filters before looping, so loop.length and loop.last count only the
// items that pass, as in Jinja.
List Evaluator::filter_loop_items(const ForStmt& s, List items) {
  if (!s.filter) return items;
  List kept;
  for (const Value& item : items) {
    ScopeGuard guard(scopes_);
    bind_targets(scopes_.back(), s.targets, item);
    if (truthy(eval(*s.filter))) kept.push_back(item);
  }
  return kept;
}

Evaluator::Flow Evaluator::exec_node(const ForStmt& s, const Stmt&) {
  List all;
  try {
    all = iterate(eval(*s.iterable));
  } catch (TemplateError& e) {
    if (e.offset == kNoOffset) e.offset = s.iterable->offset;
    throw;
  }
  const List items = filter_loop_items(s, std::move(all));
  if (items.empty()) return exec(s.otherwise);
  for (std::size_t i = 0; i < items.size(); ++i) {
    ScopeGuard guard(scopes_);  // a fresh scope per iteration: sets do not survive it
    bind_targets(scopes_.back(), s.targets, items[i]);
    scopes_.back()["loop"] = Value(loop_info(items, i));
    if (exec(s.body) == Flow::Break) break;
  }
  return Flow::Normal;
}

Evaluator::Flow Evaluator::exec_node(const SetStmt& s, const Stmt&) {
  Value value;
  if (s.value) {
    value = eval(*s.value);
  } else {  // block form: the rendered body is the value
    std::string saved = std::move(out_);
    out_.clear();
    exec(s.body);
    value = Value(std::move(out_));
    out_ = std::move(saved);
  }
  if (s.attribute.empty()) {
    bind_targets(scopes_.back(), s.targets, value);
    return Flow::Normal;
  }
  const Value* target = lookup(s.targets[0]);
  if (!target || !target->is<Value::NamespacePtr>())
    throw TemplateError("cannot assign attribute on non-namespace object '" + s.targets[0] + "'");
  if (!storable_in_namespace(value, 0))
    throw TemplateError("namespace attributes cannot hold namespaces or values nested more than " +
                        std::to_string(kMaxNamespaceNesting) + " levels deep");
  (*target->get<Value::NamespacePtr>())->attributes.set(s.attribute, std::move(value));
  return Flow::Normal;
}

Evaluator::Flow Evaluator::exec_node(const BreakStmt&, const Stmt&) { return Flow::Break; }
Evaluator::Flow Evaluator::exec_node(const ContinueStmt&, const Stmt&) { return Flow::Continue; }
Evaluator::Flow Evaluator::exec_node(const BlockStmt& s, const Stmt&) { return exec(s.body); }

// ---- expressions ----

Value Evaluator::eval(const Expr& expr) {
  try {
    Value v = std::visit([&](const auto& node) { return eval_node(node); }, expr.node);
    if (const auto* s = v.get<std::string>(); s && s->size() > kMaxStringBytes)
      throw TemplateError("string value is too large");
    return v;
  } catch (TemplateError& e) {
    if (e.offset == kNoOffset) e.offset = expr.offset;
    throw;
  }
}

const Value* Evaluator::lookup(const std::string& name) const {
  for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
    const auto found = it->find(name);
    if (found != it->end()) return &found->second;
  }
  return nullptr;
}

Value Evaluator::eval_node(const Literal& e) { return e.value; }

Value Evaluator::eval_node(const Name& e) {
  if (const Value* v = lookup(e.id)) return *v;
  if (is_global_function(e.id)) return Value(Callable{e.id, nullptr});
  return Value::undefined("'" + e.id + "' is undefined");
}

Value Evaluator::eval_node(const ListExpr& e) {
  List items;
  for (const auto& item : e.items) items.push_back(eval(*item));
  return Value(std::move(items));
}

Value Evaluator::eval_node(const DictExpr& e) {
  Dict dict;
  for (const auto& [key_expr, value_expr] : e.items) {
    const Value key = eval(*key_expr);
    if (!key.is<std::string>())
      throw TemplateError("unsupported dict key of type '" + type_name(key) + "' (only str keys are supported)",
                          key_expr->offset);
    dict.set(key.str(), eval(*value_expr));
  }
  return Value(std::move(dict));
}

Value Evaluator::eval_node(const Unary& e) {
  const Value v = eval(*e.operand);
  if (e.op == UnaryOp::Not) return Value(!truthy(v));
  if (e.op == UnaryOp::Neg) return negate(v);
  require_defined(v);
  if (!v.is_number()) throw TemplateError("bad operand type for unary +: '" + type_name(v) + "'");
  return v;
}

Value Evaluator::eval_node(const Binary& e) {
  Value lhs = eval(*e.lhs);
  if (e.op == BinaryOp::And) return truthy(lhs) ? eval(*e.rhs) : lhs;
  if (e.op == BinaryOp::Or) return truthy(lhs) ? lhs : eval(*e.rhs);
  return binary_op(e.op, lhs, eval(*e.rhs));
}

Value Evaluator::eval_node(const Compare& e) {
  Value lhs = eval(*e.first);
  for (const auto& [op, rhs_expr] : e.rest) {
    Value rhs = eval(*rhs_expr);
    if (!truthy(binary_op(op, lhs, rhs))) return Value(false);
    lhs = std::move(rhs);
  }
  return Value(true);
}

Value Evaluator::eval_node(const GetAttr& e) { return get_attr(eval(*e.object), e.attr); }
Value Evaluator::eval_node(const GetItem& e) { return get_item(eval(*e.object), eval(*e.index)); }

Value Evaluator::eval_node(const Slice& e) {
  return slice(eval(*e.object), eval_optional(e.start), eval_optional(e.stop), eval_optional(e.step));
}

CallArgs Evaluator::eval_args(const Args& args) {
  CallArgs out;
  for (const auto& arg : args.positional) out.positional.push_back(eval(*arg));
  for (const auto& [key, arg] : args.keyword) out.keyword.emplace_back(key, eval(*arg));
  return out;
}

// A call is a method call (x.strip()), a global function (raise_exception(...)), or a failure
// that names what was called.
Value Evaluator::eval_node(const Call& e) {
  if (const auto* attr = std::get_if<GetAttr>(&e.callee->node)) {
    Value object = eval(*attr->object);
    require_defined(object);
    if (!has_method(object, attr->attr))
      throw TemplateError("unsupported method '" + attr->attr + "' on " + type_name(object), e.callee->offset);
    return call(Callable{attr->attr, std::make_shared<const Value>(std::move(object))}, eval_args(e.args));
  }
  const Value callee = eval(*e.callee);
  if (const auto* fn = callee.get<Callable>()) return call(*fn, eval_args(e.args));
  if (const auto* name = std::get_if<Name>(&e.callee->node); name && callee.is<Undefined>())
    throw TemplateError("unknown function '" + name->id + "'", e.callee->offset);
  require_defined(callee);
  throw TemplateError("'" + type_name(callee) + "' object is not callable");
}

Value Evaluator::eval_node(const FilterExpr& e) { return apply_filter(e.name, eval(*e.operand), eval_args(e.args)); }

Value Evaluator::eval_node(const TestExpr& e) {
  return Value(apply_test(e.name, eval(*e.operand), eval_args(e.args)) != e.negated);
}

Value Evaluator::eval_node(const CondExpr& e) {
  if (truthy(eval(*e.cond))) return eval(*e.then);
  return e.otherwise ? eval(*e.otherwise) : Value::undefined("the inline if had no else branch");
}

}  // namespace dsv2::jinja
