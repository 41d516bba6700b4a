// The values a chat template computes with: the handful of Python types Jinja exposes to
// templates. Lists and dicts are immutable and shared (transformers renders in an
// ImmutableSandboxedEnvironment, so templates cannot mutate them), which makes copying a Value
// cheap. namespace() objects are the one mutable type and, as in Python, are shared by reference.
#pragma once
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace dsv2::jinja {

class Value;
using List = std::vector<Value>;

// A str-keyed dict that keeps insertion order, as Python dicts do (tojson output depends on it).
// Linear lookup: template dicts (messages, tool specs, literals) have a handful of keys.
class Dict {
 public:
  const Value* find(std::string_view key) const;
  void set(const std::string& key, Value value);  // replaces in place or appends
  const std::vector<std::pair<std::string, Value>>& items() const { return items_; }
  std::size_t size() const { return items_.size(); }

 private:
  std::vector<std::pair<std::string, Value>> items_;
};

// Jinja's Undefined: a missing variable, key or attribute. It renders as "" and is falsy, but most
// operations on it fail; hint says what was missing, for that error message.
struct Undefined {
  std::string hint;
};
struct None {};
struct Namespace {
  Dict attributes;
};
// A builtin function (raise_exception, namespace, range...) or a method bound to its object
// ("  x ".strip, message.get).
struct Callable {
  std::string name;
  std::shared_ptr<const Value> self;  // null for global functions
};

class Value {
 public:
  using ListPtr = std::shared_ptr<const List>;
  using DictPtr = std::shared_ptr<const Dict>;
  using NamespacePtr = std::shared_ptr<Namespace>;
  using Data = std::variant<Undefined, None, bool, std::int64_t, double, std::string, ListPtr, DictPtr,
                            NamespacePtr, Callable>;

  Value() : data_(Undefined{}) {}
  Value(None) : data_(None{}) {}
  Value(bool b) : data_(b) {}
  Value(std::int64_t i) : data_(i) {}
  Value(int i) : data_(static_cast<std::int64_t>(i)) {}
  Value(double d) : data_(d) {}
  Value(std::string s) : data_(std::move(s)) {}
  Value(const char* s) : data_(std::string(s)) {}
  Value(List list) : data_(std::make_shared<const List>(std::move(list))) {}
  Value(Dict dict) : data_(std::make_shared<const Dict>(std::move(dict))) {}
  Value(NamespacePtr ns) : data_(std::move(ns)) {}
  Value(Callable c) : data_(std::move(c)) {}
  static Value undefined(std::string hint) { return Value(Data(Undefined{std::move(hint)})); }
  static Value from_json(const nlohmann::json& json);

  template <typename T>
  bool is() const { return std::holds_alternative<T>(data_); }
  template <typename T>
  const T* get() const { return std::get_if<T>(&data_); }
  bool is_number() const { return is<bool>() || is<std::int64_t>() || is<double>(); }
  // For operands already checked with is_number(); bools count as ints, like in Python.
  double as_double() const;
  const List& list() const { return *std::get<ListPtr>(data_); }
  const Dict& dict() const { return *std::get<DictPtr>(data_); }
  const std::string& str() const { return std::get<std::string>(data_); }

 private:
  explicit Value(Data data) : data_(std::move(data)) {}
  static Value from_json(const nlohmann::json& json, int depth);
  Data data_;
};

// Python's type name, for error messages ("str", "int", "NoneType"...).
std::string type_name(const Value& v);
bool truthy(const Value& v);
// Python str(v): what {{ v }}, ~ and |string print. Undefined prints as "".
std::string to_str(const Value& v);
// Python repr(v): how items of a list or dict are printed.
std::string repr(const Value& v);
// Python repr of a float ("1.0", "0.1", "1e+16").
std::string float_repr(double d);
// Python ==: 1 == 1.0 == True, lists and dicts compare by content, Undefined equals only Undefined.
bool equals(const Value& a, const Value& b);
// Python ordering for <, <=, >, >= (numbers, strings, lists); throws TemplateError otherwise.
int compare(const Value& a, const Value& b, std::string_view op);

}  // namespace dsv2::jinja
