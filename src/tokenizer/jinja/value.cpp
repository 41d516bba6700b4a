#include "tokenizer/jinja/value.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

#include "tokenizer/jinja/error.h"

namespace dsv2::jinja {

const Value* Dict::find(std::string_view key) const {
  for (const auto& [k, v] : items_)
    if (k == key) return &v;
  return nullptr;
}

void Dict::set(const std::string& key, Value value) {
  for (auto& [k, v] : items_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  items_.emplace_back(key, std::move(value));
}

double Value::as_double() const {
  if (const auto* b = get<bool>()) return *b ? 1.0 : 0.0;
  if (const auto* i = get<std::int64_t>()) return static_cast<double>(*i);
  return std::get<double>(data_);
}

namespace {

// Deeper JSON would make rendering recurse that deep; no chat message needs it.
constexpr int kMaxJsonNesting = 256;

}  // namespace

Value Value::from_json(const nlohmann::json& json) { return from_json(json, 0); }

Value Value::from_json(const nlohmann::json& json, int depth) {
  using T = nlohmann::json::value_t;
  if (depth > kMaxJsonNesting) throw TemplateError("JSON input is nested too deeply");
  switch (json.type()) {
    case T::null: return Value(None{});
    case T::boolean: return Value(json.get<bool>());
    case T::number_integer: return Value(json.get<std::int64_t>());
    case T::number_unsigned: {
      const auto u = json.get<std::uint64_t>();
      // Python ints are unbounded; ours are 64-bit, so huge unsigned values become floats.
      if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return Value(static_cast<std::int64_t>(u));
      return Value(static_cast<double>(u));
    }
    case T::number_float: return Value(json.get<double>());
    case T::string: return Value(json.get<std::string>());
    case T::array: {
      List list;
      list.reserve(json.size());
      for (const auto& item : json) list.push_back(from_json(item, depth + 1));
      return Value(std::move(list));
    }
    case T::object: {
      Dict dict;
      for (const auto& [key, item] : json.items()) dict.set(key, from_json(item, depth + 1));
      return Value(std::move(dict));
    }
    default: throw TemplateError("binary JSON values cannot be passed to a chat template");
  }
}

std::string type_name(const Value& v) {
  if (v.is<Undefined>()) return "Undefined";
  if (v.is<None>()) return "NoneType";
  if (v.is<bool>()) return "bool";
  if (v.is<std::int64_t>()) return "int";
  if (v.is<double>()) return "float";
  if (v.is<std::string>()) return "str";
  if (v.is<Value::ListPtr>()) return "list";
  if (v.is<Value::DictPtr>()) return "dict";
  if (v.is<Value::NamespacePtr>()) return "Namespace";
  return "builtin_function_or_method";
}

bool truthy(const Value& v) {
  if (v.is<Undefined>() || v.is<None>()) return false;
  if (const auto* b = v.get<bool>()) return *b;
  if (const auto* i = v.get<std::int64_t>()) return *i != 0;
  if (const auto* d = v.get<double>()) return *d != 0.0;
  if (const auto* s = v.get<std::string>()) return !s->empty();
  if (v.is<Value::ListPtr>()) return !v.list().empty();
  if (v.is<Value::DictPtr>()) return v.dict().size() != 0;
  return true;
}

namespace {

std::string string_repr(const std::string& s) {
  // Python picks single quotes unless that would need escaping and double quotes would not.
  const bool has_single = s.find('\'') != std::string::npos;
  const char quote = has_single && s.find('"') == std::string::npos ? '"' : '\'';
  std::string out(1, quote);
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == quote || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + quote;
}

std::string join_repr(const Value& v) {
  std::string out;
  if (v.is<Value::ListPtr>()) {
    for (const auto& item : v.list()) out += (out.empty() ? "" : ", ") + repr(item);
    return "[" + out + "]";
  }
  const auto& items = v.is<Value::DictPtr>() ? v.dict().items() : (*v.get<Value::NamespacePtr>())->attributes.items();
  for (const auto& [key, item] : items) out += (out.empty() ? "" : ", ") + string_repr(key) + ": " + repr(item);
  return "{" + out + "}";
}

}  // namespace

std::string float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  // Shortest round-trip digits, then Python's layout: positional for 1e-4 <= |d| < 1e16.
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, std::fabs(d), std::chars_format::scientific);
  const std::string sci(buf, res.ptr);
  const auto e_pos = sci.find('e');
  std::string digits = sci.substr(0, e_pos);
  if (digits.size() > 1) digits.erase(1, 1);  // drop the '.'
  const int exp = std::stoi(sci.substr(e_pos + 1));
  std::string out = std::signbit(d) ? "-" : "";
  if (exp < -4 || exp >= 16) {
    out += digits.substr(0, 1);
    if (digits.size() > 1) out.append(".").append(digits, 1);
    const std::string e = std::to_string(std::abs(exp));
    return out + (exp < 0 ? "e-" : "e+") + (e.size() < 2 ? "0" : "") + e;
  }
  if (exp < 0) return out + "0." + std::string(static_cast<std::size_t>(-exp - 1), '0') + digits;
  const auto int_len = static_cast<std::size_t>(exp) + 1;
  if (digits.size() <= int_len) return out + digits + std::string(int_len - digits.size(), '0') + ".0";
  return out + digits.substr(0, int_len) + "." + digits.substr(int_len);
}

std::string to_str(const Value& v) {
  if (v.is<Undefined>()) return "";
  if (v.is<None>()) return "None";
  if (const auto* b = v.get<bool>()) return *b ? "True" : "False";
  if (const auto* i = v.get<std::int64_t>()) return std::to_string(*i);
  if (const auto* d = v.get<double>()) return float_repr(*d);
  if (const auto* s = v.get<std::string>()) return *s;
  if (v.is<Value::ListPtr>() || v.is<Value::DictPtr>()) return join_repr(v);
  if (v.is<Value::NamespacePtr>()) return "<Namespace " + join_repr(v) + ">";
  return "<built-in function " + v.get<Callable>()->name + ">";
}

std::string repr(const Value& v) {
  if (const auto* s = v.get<std::string>()) return string_repr(*s);
  return to_str(v);
}

namespace {

int three_way(auto x, auto y) { return x < y ? -1 : (y < x ? 1 : 0); }

std::int64_t int_value(const Value& v) {
  if (const auto* b = v.get<bool>()) return *b ? 1 : 0;
  return *v.get<std::int64_t>();
}

}  // namespace

bool equals(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is<double>() || b.is<double>()) return a.as_double() == b.as_double();
    return int_value(a) == int_value(b);
  }
  if (a.is<Undefined>() || a.is<None>()) return a.is<Undefined>() == b.is<Undefined>() && a.is<None>() == b.is<None>();
  if (const auto* s = a.get<std::string>()) return b.is<std::string>() && *s == b.str();
  if (a.is<Value::ListPtr>() && b.is<Value::ListPtr>()) {
    const auto &x = a.list(), &y = b.list();
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i)
      if (!equals(x[i], y[i])) return false;
    return true;
  }
  if (a.is<Value::DictPtr>() && b.is<Value::DictPtr>()) {
    if (a.dict().size() != b.dict().size()) return false;
    for (const auto& [key, item] : a.dict().items()) {
      const Value* other = b.dict().find(key);
      if (!other || !equals(item, *other)) return false;
    }
    return true;
  }
  if (const auto* ns = a.get<Value::NamespacePtr>()) return b.is<Value::NamespacePtr>() && *ns == *b.get<Value::NamespacePtr>();
  return false;
}

int compare(const Value& a, const Value& b, std::string_view op) {
  if (a.is_number() && b.is_number()) {
    if (a.is<double>() || b.is<double>()) return three_way(a.as_double(), b.as_double());
    return three_way(int_value(a), int_value(b));
  }
  if (a.is<std::string>() && b.is<std::string>()) return three_way(a.str(), b.str());
  if (a.is<Value::ListPtr>() && b.is<Value::ListPtr>()) {
    const auto &x = a.list(), &y = b.list();
    for (std::size_t i = 0; i < x.size() && i < y.size(); ++i)
      if (!equals(x[i], y[i])) return compare(x[i], y[i], op);
    return three_way(x.size(), y.size());
  }
  throw TemplateError(cat({"'", op, "' not supported between instances of '", type_name(a), "' and '", type_name(b), "'"}));
}

}  // namespace dsv2::jinja
