// The filters, tests, methods and global functions templates can call. Names are checked when
// the template is parsed where Jinja does so too (filters and tests); methods and functions are
// looked up when called.
#pragma once
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/jinja/value.h"

namespace dsv2::jinja {

struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};

// Binds call arguments to a Python-style parameter list, so f(1, b=2) and f(a=1, b=2) both work
// and extra or unknown arguments are reported against the function's name.
class ArgReader {
 public:
  ArgReader(std::string_view function, const CallArgs& args, std::initializer_list<std::string_view> params);
  bool has(std::size_t i) const { return !values_[i].is<Undefined>(); }
  const Value& get(std::size_t i) const { return values_[i]; }
  Value get_or(std::size_t i, Value fallback) const { return has(i) ? values_[i] : std::move(fallback); }
  // Argument i, which must be a string (or absent: fallback).
  std::string string_or(std::size_t i, std::string fallback) const;
  std::int64_t int_or(std::size_t i, std::int64_t fallback) const;

 private:
  std::string function_;
  std::vector<std::string_view> params_;
  std::vector<Value> values_;
};

bool is_filter(std::string_view name);
bool is_test(std::string_view name);
Value apply_filter(const std::string& name, const Value& operand, const CallArgs& args);
bool apply_test(const std::string& name, const Value& operand, const CallArgs& args);

// Whether object.name is a supported method (str.strip, dict.items...).
bool has_method(const Value& object, std::string_view name);
// A global function by name (raise_exception, namespace, range, dict, strftime_now).
bool is_global_function(std::string_view name);
// Calls a global function or a bound method.
Value call(const Callable& function, const CallArgs& args);

}  // namespace dsv2::jinja
