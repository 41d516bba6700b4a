// Methods on str and dict values, and the global functions transformers and Jinja provide.
#include <algorithm>
#include <ctime>
#include <functional>
#include <unordered_map>

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/ops.h"
#include "tokenizer/jinja/strings.h"
#include "tokenizer/utf8.h"

namespace dsv2::jinja {

namespace {

// Jinja's sandbox refuses larger ranges too (MAX_RANGE); it keeps loops bounded.
constexpr std::int64_t kMaxRange = 100000;

using Method = std::function<Value(const Value& self, const CallArgs& args)>;

std::optional<std::string> optional_chars(const ArgReader& a, std::size_t i) {
  if (!a.has(i) || a.get(i).is<None>()) return std::nullopt;
  return a.string_or(i, "");
}

Method strip_method(const char* name, StripSide side) {
  return [name, side](const Value& self, const CallArgs& args) {
    ArgReader a(name, args, {"chars"});
    return Value(py_strip(self.str(), optional_chars(a, 0), side));
  };
}

// str.startswith / str.endswith: the argument may be one string or a tuple (list) of them.
Method affix_method(const char* name, bool prefix) {
  return [name, prefix](const Value& self, const CallArgs& args) {
    ArgReader a(name, args, {"affix"});
    const List candidates = a.get(0).is<Value::ListPtr>() ? a.get(0).list() : List{a.get(0)};
    for (const Value& c : candidates) {
      if (!c.is<std::string>()) throw TemplateError(std::string(name) + "() arguments must be str, not " + type_name(c));
      const std::string_view s = self.str();
      if (prefix ? s.starts_with(c.str()) : s.ends_with(c.str())) return Value(true);
    }
    return Value(false);
  };
}

Method text_method(const char* name, std::string (*fn)(std::string_view)) {
  return [name, fn](const Value& self, const CallArgs& args) {
    ArgReader(name, args, {});
    return Value(fn(self.str()));
  };
}

Value str_split(const Value& self, const CallArgs& args) {
  ArgReader a("split", args, {"sep", "maxsplit"});
  const auto sep = optional_chars(a, 0);
  if (sep && sep->empty()) throw TemplateError("split(): empty separator");
  List parts;
  for (auto& part : py_split(self.str(), sep, a.int_or(1, -1))) parts.emplace_back(std::move(part));
  return Value(std::move(parts));
}

Value str_replace(const Value& self, const CallArgs& args) {
  ArgReader a("replace", args, {"old", "new", "count"});
  return Value(py_replace(self.str(), a.string_or(0, ""), a.string_or(1, ""), a.int_or(2, -1)));
}

Value str_find(const Value& self, const CallArgs& args) {
  ArgReader a("find", args, {"sub"});
  const auto at = self.str().find(a.string_or(0, ""));
  if (at == std::string::npos) return Value(-1);
  return Value(static_cast<std::int64_t>(utf8::length(std::string_view(self.str()).substr(0, at))));
}

Value str_join(const Value& self, const CallArgs& args) {
  ArgReader a("join", args, {"iterable"});
  std::string out;
  bool first = true;
  for (const Value& item : iterate(a.get(0))) {
    if (!item.is<std::string>()) throw TemplateError("join(): expected str items, got " + type_name(item));
    out += (first ? "" : self.str()) + item.str();
    first = false;
  }
  return Value(std::move(out));
}

const std::unordered_map<std::string, Method>& string_methods() {
  static const std::unordered_map<std::string, Method> table = {
      {"strip", strip_method("strip", StripSide::Both)},
      {"lstrip", strip_method("lstrip", StripSide::Left)},
      {"rstrip", strip_method("rstrip", StripSide::Right)},
      {"startswith", affix_method("startswith", true)},
      {"endswith", affix_method("endswith", false)},
      {"upper", text_method("upper", ascii_upper)},
      {"lower", text_method("lower", ascii_lower)},
      {"title", text_method("title", py_title)},
      {"capitalize", text_method("capitalize", py_capitalize)},
      {"split", str_split},
      {"replace", str_replace},
      {"find", str_find},
      {"join", str_join},
  };
  return table;
}

Value dict_get(const Value& self, const CallArgs& args) {
  ArgReader a("get", args, {"key", "default"});
  const Value* v = a.get(0).is<std::string>() ? self.dict().find(a.get(0).str()) : nullptr;
  return v ? *v : a.get_or(1, Value(None{}));
}

Value dict_view(const Value& self, const CallArgs& args, int what) {  // 0 keys, 1 values, 2 items
  ArgReader(what == 0 ? "keys" : what == 1 ? "values" : "items", args, {});
  List out;
  for (const auto& [key, item] : self.dict().items()) {
    if (what == 0) out.emplace_back(key);
    else if (what == 1) out.push_back(item);
    else out.emplace_back(List{Value(key), item});
  }
  return Value(std::move(out));
}

const std::unordered_map<std::string, Method>& dict_methods() {
  static const std::unordered_map<std::string, Method> table = {
      {"get", dict_get},
      {"keys", [](const Value& s, const CallArgs& a) { return dict_view(s, a, 0); }},
      {"values", [](const Value& s, const CallArgs& a) { return dict_view(s, a, 1); }},
      {"items", [](const Value& s, const CallArgs& a) { return dict_view(s, a, 2); }},
  };
  return table;
}

// ---- global functions ----

Value raise_exception(const CallArgs& args) {
  ArgReader a("raise_exception", args, {"message"});
  throw TemplateError("template raised an exception: " + to_str(a.get(0)));
}

Dict keyword_dict(const char* name, const CallArgs& args) {
  if (args.positional.size() > 1) throw TemplateError(std::string(name) + "() takes at most 1 positional argument");
  Dict out;
  if (!args.positional.empty()) {
    if (!args.positional[0].is<Value::DictPtr>()) throw TemplateError(std::string(name) + "() argument must be a dict");
    out = args.positional[0].dict();
  }
  for (const auto& [key, value] : args.keyword) out.set(key, value);
  return out;
}

Value range(const CallArgs& args) {
  ArgReader a("range", args, {"start", "stop", "step"});
  if (!a.has(0)) throw TemplateError("range() expects at least 1 argument");
  const std::int64_t start = a.has(1) ? a.int_or(0, 0) : 0;
  const std::int64_t stop = a.has(1) ? a.int_or(1, 0) : a.int_or(0, 0);
  const std::int64_t step = a.int_or(2, 1);
  if (step == 0) throw TemplateError("range() arg 3 must not be zero");
  List out;
  for (std::int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
    if (static_cast<std::int64_t>(out.size()) >= kMaxRange)
      throw TemplateError("range() is too big (more than " + std::to_string(kMaxRange) + " items)");
    out.emplace_back(i);
    if ((step > 0 && i > INT64_MAX - step) || (step < 0 && i < INT64_MIN - step)) break;
  }
  return Value(std::move(out));
}

Value strftime_now(const CallArgs& args) {
  ArgReader a("strftime_now", args, {"format"});
  const std::string format = a.string_or(0, "");
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  for (std::size_t size = 64; size <= 4096; size *= 4) {
    std::string out(size, '\0');
    const std::size_t n = std::strftime(out.data(), out.size(), format.c_str(), &local);
    if (n > 0 || format.empty()) return Value(out.substr(0, n));
  }
  return Value("");
}

const std::unordered_map<std::string, std::function<Value(const CallArgs&)>>& globals() {
  static const std::unordered_map<std::string, std::function<Value(const CallArgs&)>> table = {
      {"raise_exception", raise_exception},
      {"namespace", [](const CallArgs& a) { return Value(std::make_shared<Namespace>(Namespace{keyword_dict("namespace", a)})); }},
      {"dict", [](const CallArgs& a) { return Value(keyword_dict("dict", a)); }},
      {"range", range},
      {"strftime_now", strftime_now},
  };
  return table;
}

}  // namespace

bool has_method(const Value& object, std::string_view name) {
  if (object.is<std::string>()) return string_methods().count(std::string(name)) != 0;
  if (object.is<Value::DictPtr>()) return dict_methods().count(std::string(name)) != 0;
  return false;
}

bool is_global_function(std::string_view name) { return globals().count(std::string(name)) != 0; }

Value call(const Callable& function, const CallArgs& args) {
  if (!function.self) {
    const auto it = globals().find(function.name);
    if (it == globals().end()) throw TemplateError("unknown function '" + function.name + "'");
    return it->second(args);
  }
  const Value& self = *function.self;
  const auto& table = self.is<std::string>() ? string_methods() : dict_methods();
  const auto it = table.find(function.name);
  if (it == table.end() || !has_method(self, function.name))
    throw TemplateError("unsupported method '" + function.name + "' on " + type_name(self));
  return it->second(self, args);
}

}  // namespace dsv2::jinja
