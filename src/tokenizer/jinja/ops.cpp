#include "tokenizer/jinja/ops.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/error.h"
#include "tokenizer/utf8.h"

namespace dsv2::jinja {

namespace {

// Bounds what one expression may allocate ('x' * 10**12), so hostile templates fail cleanly.
constexpr std::int64_t kMaxRepeatBytes = std::int64_t{1} << 28;

[[noreturn]] void type_error(std::string_view op, const Value& a, const Value& b) {
  throw TemplateError("unsupported operand type(s) for " + std::string(op) + ": '" + type_name(a) + "' and '" +
                      type_name(b) + "'");
}

bool is_int(const Value& v) { return v.is<std::int64_t>() || v.is<bool>(); }
std::int64_t to_int(const Value& v) { return v.is<bool>() ? (*v.get<bool>() ? 1 : 0) : *v.get<std::int64_t>(); }

// Python ints never overflow; ours are 64-bit, so overflow is an error rather than a wrong answer.
template <typename Op>
std::int64_t checked(Op op, std::int64_t a, std::int64_t b) {
  std::int64_t result = 0;
  if (op(a, b, &result)) throw TemplateError("integer overflow");
  return result;
}
bool add_overflow(std::int64_t a, std::int64_t b, std::int64_t* r) { return __builtin_add_overflow(a, b, r); }
bool sub_overflow(std::int64_t a, std::int64_t b, std::int64_t* r) { return __builtin_sub_overflow(a, b, r); }
bool mul_overflow(std::int64_t a, std::int64_t b, std::int64_t* r) { return __builtin_mul_overflow(a, b, r); }

Value repeat(const Value& seq, std::int64_t times) {
  if (times < 0) times = 0;
  if (const auto* s = seq.get<std::string>()) {
    if (!s->empty() && times > kMaxRepeatBytes / static_cast<std::int64_t>(s->size()))
      throw TemplateError("string repetition result is too large");
    std::string out;
    for (std::int64_t i = 0; i < times; ++i) out += *s;
    return Value(std::move(out));
  }
  const List& items = seq.list();
  if (!items.empty() && times > kMaxRepeatBytes / 64 / static_cast<std::int64_t>(items.size()))
    throw TemplateError("list repetition result is too large");
  List out;
  for (std::int64_t i = 0; i < times; ++i) out.insert(out.end(), items.begin(), items.end());
  return Value(std::move(out));
}

Value add(const Value& a, const Value& b) {
  if (is_int(a) && is_int(b)) {
    return Value(checked(add_overflow, to_int(a), to_int(b)));
  }
  if (a.is_number() && b.is_number()) return Value(a.as_double() + b.as_double());
  if (a.is<std::string>() && b.is<std::string>()) return Value(a.str() + b.str());
  if (a.is<Value::ListPtr>() && b.is<Value::ListPtr>()) {
    List out = a.list();
    out.insert(out.end(), b.list().begin(), b.list().end());
    return Value(std::move(out));
  }
  type_error("+", a, b);
}

Value multiply(const Value& a, const Value& b) {
  if (is_int(a) && is_int(b)) {
    return Value(checked(mul_overflow, to_int(a), to_int(b)));
  }
  if (a.is_number() && b.is_number()) return Value(a.as_double() * b.as_double());
  if ((a.is<std::string>() || a.is<Value::ListPtr>()) && is_int(b)) return repeat(a, to_int(b));
  if ((b.is<std::string>() || b.is<Value::ListPtr>()) && is_int(a)) return repeat(b, to_int(a));
  type_error("*", a, b);
}

// Python's // and %: the quotient rounds toward minus infinity, the remainder takes the divisor's sign.
Value floor_div_mod(BinaryOp op, const Value& a, const Value& b) {
  if (!a.is_number() || !b.is_number()) {
    if (op == BinaryOp::Mod && a.is<std::string>()) throw TemplateError("unsupported construct: '%' string formatting");
    type_error(op == BinaryOp::Mod ? "%" : "//", a, b);
  }
  if (b.as_double() == 0) throw TemplateError(op == BinaryOp::Mod ? "modulo by zero" : "integer division by zero");
  if (is_int(a) && is_int(b)) {
    const std::int64_t x = to_int(a), y = to_int(b);
    if (x == std::numeric_limits<std::int64_t>::min() && y == -1) throw TemplateError("integer overflow");
    std::int64_t q = x / y, r = x % y;
    if (r != 0 && ((r < 0) != (y < 0))) {
      --q;
      r += y;
    }
    return Value(op == BinaryOp::Mod ? r : q);
  }
  const double x = a.as_double(), y = b.as_double();
  const double r = std::fmod(x, y);
  const double mod = (r != 0 && ((r < 0) != (y < 0))) ? r + y : r;
  return Value(op == BinaryOp::Mod ? mod : std::floor((x - mod) / y + 0.5));
}

Value power(const Value& a, const Value& b) {
  if (!a.is_number() || !b.is_number()) type_error("**", a, b);
  if (is_int(a) && is_int(b) && to_int(b) >= 0) {
    // Square-and-multiply; squaring only happens while a higher exponent bit remains, so an
    // overflow there means the result overflows too.
    std::int64_t result = 1, base = to_int(a), e = to_int(b);
    while (e > 0) {
      if ((e & 1) && __builtin_mul_overflow(result, base, &result)) throw TemplateError("integer overflow");
      e >>= 1;
      if (e > 0 && __builtin_mul_overflow(base, base, &base)) throw TemplateError("integer overflow");
    }
    return Value(result);
  }
  return Value(std::pow(a.as_double(), b.as_double()));
}

Value arithmetic(BinaryOp op, const Value& a, const Value& b) {
  switch (op) {
    case BinaryOp::Add: return add(a, b);
    case BinaryOp::Mul: return multiply(a, b);
    case BinaryOp::Pow: return power(a, b);
    case BinaryOp::FloorDiv:
    case BinaryOp::Mod: return floor_div_mod(op, a, b);
    case BinaryOp::Sub:
      if (is_int(a) && is_int(b)) {
    return Value(checked(sub_overflow, to_int(a), to_int(b)));
  }
      if (a.is_number() && b.is_number()) return Value(a.as_double() - b.as_double());
      type_error("-", a, b);
    default:  // Div
      if (!a.is_number() || !b.is_number()) type_error("/", a, b);
      if (b.as_double() == 0) throw TemplateError("division by zero");
      return Value(a.as_double() / b.as_double());
  }
}

const char* spelling(BinaryOp op) {
  switch (op) {
    case BinaryOp::Lt: return "<";
    case BinaryOp::Le: return "<=";
    case BinaryOp::Gt: return ">";
    default: return ">=";
  }
}

}  // namespace

void require_defined(const Value& v) {
  if (const auto* u = v.get<Undefined>()) throw TemplateError(u->hint.empty() ? "value is undefined" : u->hint);
}

Value binary_op(BinaryOp op, const Value& a, const Value& b) {
  switch (op) {
    case BinaryOp::Concat: return Value(to_str(a) + to_str(b));
    case BinaryOp::Eq: return Value(equals(a, b));
    case BinaryOp::Ne: return Value(!equals(a, b));
    case BinaryOp::In: return Value(contains(b, a));
    case BinaryOp::NotIn: return Value(!contains(b, a));
    default: break;
  }
  require_defined(a);
  require_defined(b);
  switch (op) {
    case BinaryOp::Lt: return Value(compare(a, b, spelling(op)) < 0);
    case BinaryOp::Le: return Value(compare(a, b, spelling(op)) <= 0);
    case BinaryOp::Gt: return Value(compare(a, b, spelling(op)) > 0);
    case BinaryOp::Ge: return Value(compare(a, b, spelling(op)) >= 0);
    default: return arithmetic(op, a, b);
  }
}

Value negate(const Value& v) {
  require_defined(v);
  if (is_int(v)) {
    return Value(checked(sub_overflow, std::int64_t{0}, to_int(v)));
  }
  if (v.is<double>()) return Value(-*v.get<double>());
  throw TemplateError("bad operand type for unary -: '" + type_name(v) + "'");
}

bool contains(const Value& container, const Value& item) {
  if (container.is<Undefined>()) return false;  // iterating Undefined yields nothing
  if (const auto* s = container.get<std::string>()) {
    if (!item.is<std::string>())
      throw TemplateError("'in <string>' requires string as left operand, not " + type_name(item));
    return s->find(item.str()) != std::string::npos;
  }
  if (container.is<Value::ListPtr>()) {
    for (const auto& x : container.list())
      if (equals(x, item)) return true;
    return false;
  }
  if (container.is<Value::DictPtr>()) return item.is<std::string>() && container.dict().find(item.str()) != nullptr;
  throw TemplateError("argument of type '" + type_name(container) + "' is not iterable");
}

namespace {

// Python's slice.indices(): clamps the bounds and fills in the defaults for the step direction.
std::vector<std::size_t> slice_indices(std::int64_t n, const Value& start, const Value& stop, const Value& step) {
  auto bound = [](const Value& v, const char* what) -> std::optional<std::int64_t> {
    if (v.is<Undefined>() || v.is<None>()) return std::nullopt;
    if (!is_int(v)) throw TemplateError(std::string("slice ") + what + " must be an integer, not " + type_name(v));
    return to_int(v);
  };
  const std::int64_t st = bound(step, "step").value_or(1);
  if (st == 0) throw TemplateError("slice step cannot be zero");
  auto clamp = [&](std::optional<std::int64_t> i, std::int64_t fallback) {
    if (!i) return fallback;
    std::int64_t x = *i < 0 ? std::max<std::int64_t>(*i, -n - 1) + n : *i;
    return st > 0 ? std::clamp<std::int64_t>(x, 0, n) : std::clamp<std::int64_t>(x, -1, n - 1);
  };
  const std::int64_t from = clamp(bound(start, "start"), st > 0 ? 0 : n - 1);
  const std::int64_t to = clamp(bound(stop, "stop"), st > 0 ? n : -1);
  std::vector<std::size_t> out;
  for (std::int64_t i = from; st > 0 ? i < to : i > to; i += st) out.push_back(static_cast<std::size_t>(i));
  return out;
}

}  // namespace

Value slice(const Value& container, const Value& start, const Value& stop, const Value& step) {
  require_defined(container);
  if (const auto* s = container.get<std::string>()) {
    const auto starts = utf8::starts(*s);
    std::string out;
    for (std::size_t i : slice_indices(static_cast<std::int64_t>(starts.size() - 1), start, stop, step))
      out.append(*s, starts[i], starts[i + 1] - starts[i]);
    return Value(std::move(out));
  }
  if (!container.is<Value::ListPtr>()) throw TemplateError("'" + type_name(container) + "' object is not subscriptable");
  const List& items = container.list();
  List out;
  for (std::size_t i : slice_indices(static_cast<std::int64_t>(items.size()), start, stop, step)) out.push_back(items[i]);
  return Value(std::move(out));
}

namespace {

std::optional<std::size_t> python_index(const Value& key, std::size_t n) {
  if (!is_int(key)) return std::nullopt;
  std::int64_t i = to_int(key);
  if (i < 0) i += static_cast<std::int64_t>(n);
  if (i < 0 || i >= static_cast<std::int64_t>(n)) return std::nullopt;
  return static_cast<std::size_t>(i);
}

Value missing(const Value& container, const Value& key) {
  return Value::undefined(cat({"'", type_name(container), " object' has no attribute ", repr(key)}));
}

}  // namespace

Value get_item(const Value& container, const Value& key) {
  require_defined(container);
  if (container.is<Value::DictPtr>()) {
    const Value* v = key.is<std::string>() ? container.dict().find(key.str()) : nullptr;
    return v ? *v : missing(container, key);
  }
  if (container.is<Value::ListPtr>()) {
    const auto i = python_index(key, container.list().size());
    return i ? container.list()[*i] : missing(container, key);
  }
  if (const auto* s = container.get<std::string>()) {
    const auto starts = utf8::starts(*s);
    const auto i = python_index(key, starts.size() - 1);
    return i ? Value(s->substr(starts[*i], starts[*i + 1] - starts[*i])) : missing(container, key);
  }
  if (const auto* ns = container.get<Value::NamespacePtr>()) {
    const Value* v = key.is<std::string>() ? (*ns)->attributes.find(key.str()) : nullptr;
    return v ? *v : missing(container, key);
  }
  return missing(container, key);
}

// Jinja tries the Python attribute first, so message.items is the dict method even when the dict
// has an "items" key; message.content falls back to the key.
Value get_attr(const Value& object, const std::string& name) {
  require_defined(object);
  if (has_method(object, name)) return Value(Callable{name, std::make_shared<const Value>(object)});
  if (object.is<Value::DictPtr>() || object.is<Value::NamespacePtr>()) return get_item(object, Value(name));
  return Value::undefined(cat({"'", type_name(object), " object' has no attribute '", name, "'"}));
}

List iterate(const Value& v) {
  if (v.is<Undefined>()) return {};
  if (v.is<Value::ListPtr>()) return v.list();
  if (v.is<Value::DictPtr>()) {
    List keys;
    for (const auto& [key, item] : v.dict().items()) keys.emplace_back(key);
    return keys;
  }
  if (const auto* s = v.get<std::string>()) {
    List chars;
    for (std::size_t i = 0; i < s->size(); i += utf8::char_size(*s, i)) chars.emplace_back(s->substr(i, utf8::char_size(*s, i)));
    return chars;
  }
  throw TemplateError("'" + type_name(v) + "' object is not iterable");
}

}  // namespace dsv2::jinja
