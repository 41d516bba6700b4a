// Filters and tests: the `x | name(args)` and `x is name(args)` vocabulary.
#include "tokenizer/jinja/builtins.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <unordered_map>

#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/json.h"
#include "tokenizer/jinja/ops.h"
#include "tokenizer/jinja/strings.h"
#include "tokenizer/utf8.h"

namespace dsv2::jinja {

ArgReader::ArgReader(std::string_view function, const CallArgs& args, std::initializer_list<std::string_view> params)
    : function_(function), params_(params), values_(params.size()) {
  if (args.positional.size() > params_.size())
    throw TemplateError(function_ + "() takes at most " + std::to_string(params_.size()) + " argument(s), got " +
                        std::to_string(args.positional.size()));
  std::copy(args.positional.begin(), args.positional.end(), values_.begin());
  for (const auto& [key, value] : args.keyword) {
    const auto it = std::find(params_.begin(), params_.end(), key);
    if (it == params_.end()) throw TemplateError(function_ + "() got an unexpected keyword argument '" + key + "'");
    values_[static_cast<std::size_t>(it - params_.begin())] = value;
  }
}

std::string ArgReader::string_or(std::size_t i, std::string fallback) const {
  if (!has(i) || values_[i].is<None>()) return fallback;
  if (!values_[i].is<std::string>())
    throw TemplateError(function_ + "(): argument '" + std::string(params_[i]) + "' must be a string, not " +
                        type_name(values_[i]));
  return values_[i].str();
}

std::int64_t ArgReader::int_or(std::size_t i, std::int64_t fallback) const {
  if (!has(i) || values_[i].is<None>()) return fallback;
  const Value& v = values_[i];
  if (const auto* n = v.get<std::int64_t>()) return *n;
  if (const auto* b = v.get<bool>()) return *b ? 1 : 0;
  throw TemplateError(function_ + "(): argument '" + std::string(params_[i]) + "' must be an integer, not " +
                      type_name(v));
}

namespace {

using Filter = std::function<Value(const Value&, const CallArgs&)>;

std::int64_t length(const Value& v) {
  if (v.is<Undefined>()) return 0;
  if (const auto* s = v.get<std::string>()) return static_cast<std::int64_t>(utf8::length(*s));
  if (v.is<Value::ListPtr>()) return static_cast<std::int64_t>(v.list().size());
  if (v.is<Value::DictPtr>()) return static_cast<std::int64_t>(v.dict().size());
  throw TemplateError("object of type '" + type_name(v) + "' has no len()");
}

// A filter that takes no arguments beyond its operand.
Filter nullary(const char* name, Value (*fn)(const Value&)) {
  return [name, fn](const Value& v, const CallArgs& args) {
    ArgReader(name, args, {});
    return fn(v);
  };
}

// Filters that map text to text ignore what the operand was and work on its str(), like Jinja.
Filter text_filter(const char* name, std::string (*fn)(std::string_view)) {
  return [name, fn](const Value& v, const CallArgs& args) {
    ArgReader(name, args, {});
    return Value(fn(to_str(v)));
  };
}

Value filter_default(const Value& v, const CallArgs& args) {
  ArgReader a("default", args, {"default_value", "boolean"});
  const bool use_default = v.is<Undefined>() || (truthy(a.get_or(1, Value(false))) && !truthy(v));
  return use_default ? a.get_or(0, Value("")) : v;
}

Value filter_join(const Value& v, const CallArgs& args) {
  ArgReader a("join", args, {"d", "attribute"});
  const std::string sep = a.string_or(0, "");
  std::string out;
  bool first = true;
  for (const Value& item : iterate(v)) {
    out += first ? "" : sep;
    out += to_str(a.has(1) ? get_item(item, a.get(1)) : item);
    first = false;
  }
  return Value(std::move(out));
}

Value filter_tojson(const Value& v, const CallArgs& args) {
  ArgReader a("tojson", args, {"indent", "sort_keys", "ensure_ascii"});
  JsonOptions options;
  if (a.has(0) && !a.get(0).is<None>()) options.indent = static_cast<int>(std::clamp<std::int64_t>(a.int_or(0, 0), 0, 64));
  options.sort_keys = truthy(a.get_or(1, Value(false)));
  options.ensure_ascii = truthy(a.get_or(2, Value(false)));
  return Value(to_json(v, options));
}

Value filter_first_last(const Value& v, bool first) {
  const List items = iterate(v);
  if (items.empty()) return Value::undefined(std::string("no ") + (first ? "first" : "last") + " item, sequence was empty");
  return first ? items.front() : items.back();
}

Value filter_trim(const Value& v, const CallArgs& args) {
  ArgReader a("trim", args, {"chars"});
  std::optional<std::string> chars;
  if (a.has(0) && !a.get(0).is<None>()) chars = a.string_or(0, "");
  return Value(py_strip(to_str(v), chars, StripSide::Both));
}

Value filter_replace(const Value& v, const CallArgs& args) {
  ArgReader a("replace", args, {"old", "new", "count"});
  return Value(py_replace(to_str(v), a.string_or(0, ""), a.string_or(1, ""), a.int_or(2, -1)));
}

Value filter_int(const Value& v, const CallArgs& args) {
  ArgReader a("int", args, {"default", "base"});
  if (v.is<bool>() || v.is<std::int64_t>()) return Value(v.is<bool>() ? std::int64_t{*v.get<bool>()} : *v.get<std::int64_t>());
  if (const auto* d = v.get<double>()) {
    if (std::isfinite(*d) && std::fabs(*d) < 9.2e18) return Value(static_cast<std::int64_t>(*d));
  } else if (const auto* s = v.get<std::string>()) {
    const std::string t = py_strip(*s, std::nullopt, StripSide::Both);
    try {
      std::size_t used = 0;
      const long long n = std::stoll(t, &used, static_cast<int>(a.int_or(1, 10)));
      if (used == t.size()) return Value(static_cast<std::int64_t>(n));
    } catch (const std::exception&) {  // not a number: fall back to the default, like Jinja
    }
  }
  return a.get_or(0, Value(0));
}

Value filter_float(const Value& v, const CallArgs& args) {
  ArgReader a("float", args, {"default"});
  if (v.is_number()) return Value(v.as_double());
  if (const auto* s = v.get<std::string>()) {
    const std::string t = py_strip(*s, std::nullopt, StripSide::Both);
    char* end = nullptr;
    const double d = std::strtod(t.c_str(), &end);
    if (!t.empty() && end == t.c_str() + t.size()) return Value(d);
  }
  return a.get_or(0, Value(0.0));
}

Value filter_reverse(const Value& v, const CallArgs& args) {
  ArgReader("reverse", args, {});
  if (v.is<std::string>()) {
    std::string out;
    for (const Value& c : iterate(v)) out.insert(0, c.str());
    return Value(std::move(out));
  }
  List items = iterate(v);
  std::reverse(items.begin(), items.end());
  return Value(std::move(items));
}

Value filter_items(const Value& v, const CallArgs& args) {
  ArgReader("items", args, {});
  if (v.is<Undefined>()) return Value(List{});
  if (!v.is<Value::DictPtr>()) throw TemplateError("items: can only get items from a mapping, not " + type_name(v));
  List out;
  for (const auto& [key, item] : v.dict().items()) out.emplace_back(List{Value(key), item});
  return Value(std::move(out));
}

Value filter_abs(const Value& v, const CallArgs& args) {
  ArgReader("abs", args, {});
  if (v.is<double>()) return Value(std::fabs(*v.get<double>()));
  if (!v.is_number()) throw TemplateError("bad operand type for abs(): '" + type_name(v) + "'");
  return v.as_double() < 0 ? negate(v) : v;
}

// select/reject(test, args...) and selectattr/rejectattr(attribute, test, args...): with no test,
// the item's truth value decides.
Value filter_select(const Value& v, const CallArgs& args, bool by_attribute, bool keep) {
  const std::size_t skip = by_attribute ? 1 : 0;
  if (args.positional.size() < skip) throw TemplateError("selectattr/rejectattr need an attribute name");
  CallArgs test_args;
  std::string test;
  if (args.positional.size() > skip) {
    if (!args.positional[skip].is<std::string>()) throw TemplateError("select: the test name must be a string");
    test = args.positional[skip].str();
    if (!is_test(test)) throw TemplateError("unknown test '" + test + "'");
    test_args.positional.assign(args.positional.begin() + static_cast<std::ptrdiff_t>(skip) + 1, args.positional.end());
  }
  List out;
  for (const Value& item : iterate(v)) {
    const Value subject = by_attribute ? get_item(item, args.positional[0]) : item;
    const bool pass = test.empty() ? truthy(subject) : apply_test(test, subject, test_args);
    if (pass == keep) out.push_back(item);
  }
  return Value(std::move(out));
}

// map(attribute='x', default=...) or map('filter', args...).
Value filter_map(const Value& v, const CallArgs& args) {
  List out;
  if (args.positional.empty()) {
    ArgReader a("map", args, {"attribute", "default"});
    if (!a.has(0)) throw TemplateError("map() needs a filter name or attribute=");
    for (const Value& item : iterate(v)) {
      Value x = get_item(item, a.get(0));
      out.push_back(x.is<Undefined>() && a.has(1) ? a.get(1) : x);
    }
    return Value(std::move(out));
  }
  if (!args.positional[0].is<std::string>() || !is_filter(args.positional[0].str()))
    throw TemplateError("map(): unknown filter " + repr(args.positional[0]));
  CallArgs rest{{args.positional.begin() + 1, args.positional.end()}, args.keyword};
  for (const Value& item : iterate(v)) out.push_back(apply_filter(args.positional[0].str(), item, rest));
  return Value(std::move(out));
}

const std::unordered_map<std::string, Filter>& filters() {
  static const std::unordered_map<std::string, Filter> table = {
      {"trim", filter_trim},
      {"length", nullary("length", [](const Value& v) { return Value(length(v)); })},
      {"count", nullary("count", [](const Value& v) { return Value(length(v)); })},
      {"upper", text_filter("upper", ascii_upper)},
      {"lower", text_filter("lower", ascii_lower)},
      {"capitalize", text_filter("capitalize", py_capitalize)},
      {"title", text_filter("title", py_title)},
      {"default", filter_default},
      {"d", filter_default},
      {"join", filter_join},
      {"tojson", filter_tojson},
      {"string", nullary("string", [](const Value& v) { return Value(to_str(v)); })},
      {"safe", nullary("safe", [](const Value& v) { return v; })},  // no autoescaping, so a no-op
      {"first", nullary("first", [](const Value& v) { return filter_first_last(v, true); })},
      {"last", nullary("last", [](const Value& v) { return filter_first_last(v, false); })},
      {"list", nullary("list", [](const Value& v) { return Value(iterate(v)); })},
      {"int", filter_int},
      {"float", filter_float},
      {"abs", filter_abs},
      {"replace", filter_replace},
      {"reverse", filter_reverse},
      {"items", filter_items},
      {"select", [](const Value& v, const CallArgs& a) { return filter_select(v, a, false, true); }},
      {"reject", [](const Value& v, const CallArgs& a) { return filter_select(v, a, false, false); }},
      {"selectattr", [](const Value& v, const CallArgs& a) { return filter_select(v, a, true, true); }},
      {"rejectattr", [](const Value& v, const CallArgs& a) { return filter_select(v, a, true, false); }},
      {"map", filter_map},
  };
  return table;
}

// ---- tests ----

using Test = std::function<bool(const Value&, const ArgReader&)>;

bool is_integer(const Value& v) { return v.is<std::int64_t>(); }
bool is_divisible(const Value& v, std::int64_t n) {
  if (!is_integer(v) || n == 0) throw TemplateError("divisibility tests need integers and a non-zero divisor");
  return *v.get<std::int64_t>() % n == 0;
}

const std::unordered_map<std::string, std::pair<int, Test>>& tests() {  // name -> (arity, test)
  using V = const Value&;
  using A = const ArgReader&;
  static const std::unordered_map<std::string, std::pair<int, Test>> table = {
      {"defined", {0, [](V v, A) { return !v.is<Undefined>(); }}},
      {"undefined", {0, [](V v, A) { return v.is<Undefined>(); }}},
      {"none", {0, [](V v, A) { return v.is<None>(); }}},
      {"boolean", {0, [](V v, A) { return v.is<bool>(); }}},
      {"true", {0, [](V v, A) { return v.is<bool>() && *v.get<bool>(); }}},
      {"false", {0, [](V v, A) { return v.is<bool>() && !*v.get<bool>(); }}},
      {"integer", {0, [](V v, A) { return is_integer(v); }}},
      {"float", {0, [](V v, A) { return v.is<double>(); }}},
      {"number", {0, [](V v, A) { return v.is_number(); }}},
      {"string", {0, [](V v, A) { return v.is<std::string>(); }}},
      {"mapping", {0, [](V v, A) { return v.is<Value::DictPtr>(); }}},
      {"iterable", {0, [](V v, A) { return v.is<std::string>() || v.is<Value::ListPtr>() || v.is<Value::DictPtr>(); }}},
      {"sequence", {0, [](V v, A) { return v.is<std::string>() || v.is<Value::ListPtr>() || v.is<Value::DictPtr>(); }}},
      {"callable", {0, [](V v, A) { return v.is<Callable>(); }}},
      {"lower", {0, [](V v, A) { return v.is<std::string>() && ascii_lower(v.str()) == v.str(); }}},
      {"upper", {0, [](V v, A) { return v.is<std::string>() && ascii_upper(v.str()) == v.str(); }}},
      {"even", {0, [](V v, A) { return is_divisible(v, 2); }}},
      {"odd", {0, [](V v, A) { return !is_divisible(v, 2); }}},
      {"divisibleby", {1, [](V v, A a) { return is_divisible(v, a.int_or(0, 0)); }}},
      {"eq", {1, [](V v, A a) { return equals(v, a.get(0)); }}},
      {"equalto", {1, [](V v, A a) { return equals(v, a.get(0)); }}},
      {"ne", {1, [](V v, A a) { return !equals(v, a.get(0)); }}},
      {"lt", {1, [](V v, A a) { return truthy(binary_op(BinaryOp::Lt, v, a.get(0))); }}},
      {"le", {1, [](V v, A a) { return truthy(binary_op(BinaryOp::Le, v, a.get(0))); }}},
      {"gt", {1, [](V v, A a) { return truthy(binary_op(BinaryOp::Gt, v, a.get(0))); }}},
      {"ge", {1, [](V v, A a) { return truthy(binary_op(BinaryOp::Ge, v, a.get(0))); }}},
      {"in", {1, [](V v, A a) { return contains(a.get(0), v); }}},
      {"sameas", {1, [](V v, A a) {  // identity only makes sense for singletons and namespaces here
         return (v.is<None>() && a.get(0).is<None>()) || (v.is<bool>() && a.get(0).is<bool>() && equals(v, a.get(0))) ||
                (v.is<Value::NamespacePtr>() && equals(v, a.get(0)));
       }}},
  };
  return table;
}

}  // namespace

bool is_filter(std::string_view name) { return filters().count(std::string(name)) != 0; }
bool is_test(std::string_view name) { return tests().count(std::string(name)) != 0; }

Value apply_filter(const std::string& name, const Value& operand, const CallArgs& args) {
  const auto it = filters().find(name);
  if (it == filters().end()) throw TemplateError("unknown filter '" + name + "'");
  try {
    return it->second(operand, args);
  } catch (const TemplateError& e) {
    if (e.offset != kNoOffset) throw;
    throw TemplateError("filter '" + name + "': " + e.what());
  }
}

bool apply_test(const std::string& name, const Value& operand, const CallArgs& args) {
  const auto it = tests().find(name);
  if (it == tests().end()) throw TemplateError("unknown test '" + name + "'");
  static const std::initializer_list<std::string_view> kNoParams = {}, kOneParam = {"value"};
  const ArgReader reader("test '" + name + "'", args, it->second.first == 0 ? kNoParams : kOneParam);
  if (it->second.first == 1 && !reader.has(0)) throw TemplateError("test '" + name + "' needs an argument");
  return it->second.second(operand, reader);
}

}  // namespace dsv2::jinja
