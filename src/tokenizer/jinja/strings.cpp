#include "tokenizer/jinja/strings.h"

#include <algorithm>
#include <cctype>

#include "tokenizer/utf8.h"

namespace dsv2::jinja {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// Does the code point at s[i] belong to the strip set?
bool in_set(std::string_view s, std::size_t i, std::size_t len, const std::optional<std::string>& chars) {
  if (!chars) return len == 1 && is_space(s[i]);
  for (std::size_t k = 0; k < chars->size(); k += utf8::char_size(*chars, k))
    if (chars->compare(k, utf8::char_size(*chars, k), s.substr(i, len)) == 0) return true;
  return false;
}

}  // namespace

std::string py_strip(std::string_view s, const std::optional<std::string>& chars, StripSide side) {
  const auto starts = utf8::starts(s);
  std::size_t first = 0, last = starts.size() - 1;  // code point range [first, last)
  auto size_of = [&](std::size_t cp) { return starts[cp + 1] - starts[cp]; };
  if (side != StripSide::Right)
    while (first < last && in_set(s, starts[first], size_of(first), chars)) ++first;
  if (side != StripSide::Left)
    while (last > first && in_set(s, starts[last - 1], size_of(last - 1), chars)) --last;
  return std::string(s.substr(starts[first], starts[last] - starts[first]));
}

std::vector<std::string> py_split(std::string_view s, const std::optional<std::string>& sep, long long maxsplit) {
  std::vector<std::string> parts;
  if (sep) {
    std::size_t from = 0, at;
    while ((maxsplit < 0 || static_cast<long long>(parts.size()) < maxsplit) &&
           (at = s.find(*sep, from)) != std::string_view::npos) {
      parts.emplace_back(s.substr(from, at - from));
      from = at + sep->size();
    }
    parts.emplace_back(s.substr(from));
    return parts;
  }
  std::size_t i = 0;
  for (;;) {
    while (i < s.size() && is_space(s[i])) ++i;
    if (i == s.size()) break;
    if (maxsplit >= 0 && static_cast<long long>(parts.size()) == maxsplit) {
      // The remainder, with only its trailing whitespace removed, is the last part.
      std::size_t end = s.size();
      while (end > i && is_space(s[end - 1])) --end;
      parts.emplace_back(s.substr(i, end - i));
      break;
    }
    const std::size_t start = i;
    while (i < s.size() && !is_space(s[i])) ++i;
    parts.emplace_back(s.substr(start, i - start));
  }
  return parts;
}

std::string py_replace(std::string_view s, std::string_view old, std::string_view repl, long long count) {
  std::string out;
  long long done = 0;
  if (old.empty()) {  // Python inserts repl before every character and at the end
    std::size_t i = 0;
    for (; i <= s.size() && (count < 0 || done < count); ++done) {
      out += repl;
      if (i == s.size()) return out;
      const std::size_t n = utf8::char_size(s, i);
      out += s.substr(i, n);
      i += n;
    }
    return out + std::string(s.substr(std::min(i, s.size())));
  }
  std::size_t from = 0, at;
  while ((count < 0 || done < count) && (at = s.find(old, from)) != std::string_view::npos) {
    out += s.substr(from, at - from);
    out += repl;
    from = at + old.size();
    ++done;
  }
  return out + std::string(s.substr(from));
}

std::string ascii_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string py_capitalize(std::string_view s) {
  std::string out = ascii_lower(s);
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

std::string py_title(std::string_view s) {
  std::string out(s);
  bool in_word = false;
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    const bool letter = std::isalpha(u) != 0;
    c = static_cast<char>(letter && !in_word ? std::toupper(u) : std::tolower(u));
    in_word = letter;
  }
  return out;
}

}  // namespace dsv2::jinja
