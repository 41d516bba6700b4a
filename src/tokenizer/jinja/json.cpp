#include "tokenizer/jinja/json.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "tokenizer/jinja/error.h"
#include "tokenizer/utf8.h"

namespace dsv2::jinja {

namespace {

// Deeper values cannot come from JSON input or literals within the parser's nesting limit, but
// namespaces can hold themselves; stop instead of recursing forever.
constexpr int kMaxJsonDepth = 200;

void append_u_escape(std::string& out, std::uint32_t unit) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(unit));
  out += buf;
}

void append_string(std::string& out, const std::string& s, bool ensure_ascii) {
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8::char_size(s, i);
    const auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          append_u_escape(out, c);
        } else if (c >= 0x80 && ensure_ascii) {
          const std::uint32_t cp = utf8::code_point_at(s, i);
          if (cp >= 0x10000) {  // a surrogate pair, as Python writes it
            append_u_escape(out, 0xD800 + ((cp - 0x10000) >> 10));
            append_u_escape(out, 0xDC00 + ((cp - 0x10000) & 0x3FF));
          } else {
            append_u_escape(out, cp);
          }
        } else {
          out.append(s, i, n);
        }
    }
    i += n;
  }
  out += '"';
}

class Writer {
 public:
  explicit Writer(const JsonOptions& options) : options_(options) {}
  void write(const Value& v, int level);
  std::string out;

 private:
  void newline(int level) {
    if (!options_.indent) return;
    out += '\n';
    out.append(static_cast<std::size_t>(std::max(0, *options_.indent) * level), ' ');
  }
  const char* item_separator() const { return options_.indent ? "," : ", "; }
  void write_list(const List& items, int level);
  void write_dict(const Dict& dict, int level);
  const JsonOptions& options_;
};

void Writer::write(const Value& v, int level) {
  if (level > kMaxJsonDepth) throw TemplateError("tojson: value is nested too deeply");
  if (v.is<None>()) out += "null";
  else if (const auto* b = v.get<bool>()) out += *b ? "true" : "false";
  else if (const auto* i = v.get<std::int64_t>()) out += std::to_string(*i);
  else if (const auto* d = v.get<double>()) {
    if (std::isnan(*d)) out += "NaN";
    else if (std::isinf(*d)) out += *d < 0 ? "-Infinity" : "Infinity";
    else out += float_repr(*d);
  } else if (const auto* s = v.get<std::string>()) append_string(out, *s, options_.ensure_ascii);
  else if (v.is<Value::ListPtr>()) write_list(v.list(), level);
  else if (v.is<Value::DictPtr>()) write_dict(v.dict(), level);
  else throw TemplateError("tojson: object of type '" + type_name(v) + "' is not JSON serializable");
}

void Writer::write_list(const List& items, int level) {
  if (items.empty()) {
    out += "[]";
    return;
  }
  out += '[';
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += item_separator();
    newline(level + 1);
    write(items[i], level + 1);
  }
  newline(level);
  out += ']';
}

void Writer::write_dict(const Dict& dict, int level) {
  if (dict.size() == 0) {
    out += "{}";
    return;
  }
  std::vector<const std::pair<std::string, Value>*> entries;
  for (const auto& entry : dict.items()) entries.push_back(&entry);
  if (options_.sort_keys)
    std::stable_sort(entries.begin(), entries.end(), [](auto* a, auto* b) { return a->first < b->first; });
  out += '{';
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (i > 0) out += item_separator();
    newline(level + 1);
    append_string(out, entries[i]->first, options_.ensure_ascii);
    out += ": ";
    write(entries[i]->second, level + 1);
  }
  newline(level);
  out += '}';
}

}  // namespace

std::string to_json(const Value& v, const JsonOptions& options) {
  Writer writer(options);
  writer.write(v, 0);
  return std::move(writer.out);
}

}  // namespace dsv2::jinja
