// Python str methods with Python's edge cases (split() on runs of whitespace, strip(chars) taking
// a set of characters), which templates rely on when cleaning message text. Case mapping covers
// ASCII only.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsv2::jinja {

enum class StripSide { Left, Right, Both };
// chars = nullopt strips whitespace, like str.strip(); otherwise any code point in *chars.
std::string py_strip(std::string_view s, const std::optional<std::string>& chars, StripSide side);
// sep = nullopt splits on runs of whitespace and drops empty parts; maxsplit < 0 means no limit.
std::vector<std::string> py_split(std::string_view s, const std::optional<std::string>& sep, long long maxsplit);
std::string py_replace(std::string_view s, std::string_view old, std::string_view repl, long long count);
std::string ascii_upper(std::string_view s);
std::string ascii_lower(std::string_view s);
std::string py_capitalize(std::string_view s);  // first character upper, the rest lower
std::string py_title(std::string_view s);       // each word's first letter upper, the rest lower

}  // namespace dsv2::jinja
