// GPT-2's byte-level alphabet: every byte maps to a printable code point so that byte strings
// can be stored as text in vocab files. Printable Latin-1 bytes (! to ~, ¡ to ¬, ® to ÿ) map to
// themselves; the other 68 bytes map, in byte order, to U+0100 onwards (so space is 'Ġ' U+0120).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dsv2::byte_level {

char32_t byte_to_char(std::uint8_t b);
std::optional<std::uint8_t> char_to_byte(char32_t c);

// "hi there" -> "hiĠthere".
std::string encode(std::string_view bytes);
// The inverse; nullopt if some character is not in the byte-level alphabet.
std::optional<std::string> decode(std::string_view text);

}  // namespace dsv2::byte_level
