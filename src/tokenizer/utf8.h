// UTF-8 helpers with the Unicode "maximal subpart" replacement policy: each maximal prefix of
// a well-formed sequence that cannot be completed becomes one U+FFFD. This is what Python's
// bytes.decode(errors="replace") and Rust's String::from_utf8_lossy do, so decoded text matches
// Hugging Face tokenizers byte for byte.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dsv2::utf8 {

inline constexpr char32_t kReplacement = 0xFFFD;

// Length of the well-formed sequence at s[pos] (1-4), or 0 if the bytes there are ill-formed;
// then *subpart is the length of the maximal subpart to replace (>= 1). If the sequence is
// valid so far but cut off by the end of s, returns 0 with *truncated = true.
std::size_t sequence_length(std::string_view s, std::size_t pos, std::size_t* subpart, bool* truncated);

bool is_valid(std::string_view s);
// s with every ill-formed subsequence replaced by U+FFFD (a copy of s when it is valid).
std::string sanitize(std::string_view s);
// Length of the longest prefix of s that does not end inside a sequence that could still be
// completed by more bytes (used by the streaming decoder to hold such a tail back).
std::size_t complete_prefix(std::string_view s);

// Decodes the (well-formed) sequence at s[pos]; advances pos.
char32_t decode(std::string_view s, std::size_t& pos);
void append(std::string& out, char32_t cp);
// Start of the character that ends at s[end - 1] (s well-formed, end > 0).
std::size_t previous_start(std::string_view s, std::size_t end);

// The Unicode White_Space property (what Rust's char::is_whitespace and regex \s test).
bool is_white_space(char32_t cp);

// Lenient code-point walking for the chat template engine, which measures, indexes and slices
// strings by code point as Python does and never fails on invalid UTF-8: a byte that does not
// start a sequence of the length its lead byte declares, completed by continuation bytes, counts
// as one code point of its own (and decodes to its own value).
std::size_t char_size(std::string_view s, std::size_t pos);  // 1-4
std::size_t length(std::string_view s);
// Byte offset of every code point, followed by s.size().
std::vector<std::size_t> starts(std::string_view s);
char32_t code_point_at(std::string_view s, std::size_t pos);

}  // namespace dsv2::utf8
