// Python measures, indexes and slices str by code point; templates do all three on message text.
// Invalid UTF-8 never fails here: each byte that does not start a well-formed sequence counts as
// one code point of its own.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dsv2::jinja {

// Byte length of the code point starting at s[i] (1 for an invalid byte).
std::size_t utf8_char_size(std::string_view s, std::size_t i);

std::size_t utf8_length(std::string_view s);

// Byte offset of every code point, followed by s.size().
std::vector<std::size_t> utf8_starts(std::string_view s);

// The code point at s[i] (an invalid byte decodes to itself).
std::uint32_t utf8_decode(std::string_view s, std::size_t i);

void utf8_append(std::string& out, std::uint32_t code_point);

}  // namespace dsv2::jinja
