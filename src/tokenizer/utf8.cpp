#include "tokenizer/utf8.h"

namespace dsv2::utf8 {

namespace {
// Table 3-7 of the Unicode standard: the valid range of the second byte depends on the first
// (this excludes overlongs, surrogates D800-DFFF and code points above 10FFFF).
bool second_byte_ok(unsigned char lead, unsigned char b) {
  if (lead == 0xE0) return b >= 0xA0 && b <= 0xBF;
  if (lead == 0xED) return b >= 0x80 && b <= 0x9F;
  if (lead == 0xF0) return b >= 0x90 && b <= 0xBF;
  if (lead == 0xF4) return b >= 0x80 && b <= 0x8F;
  return b >= 0x80 && b <= 0xBF;
}

std::size_t expected_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;  // 80-C1 and F5-FF never start a sequence
}

// The length the lead byte claims, before any validation (for the lenient walkers).
std::size_t declared_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;  // stray continuation byte or F8-FF
}
}  // namespace

std::size_t sequence_length(std::string_view s, std::size_t pos, std::size_t* subpart, bool* truncated) {
  *truncated = false;
  *subpart = 1;
  const auto lead = static_cast<unsigned char>(s[pos]);
  const std::size_t n = expected_length(lead);
  if (n <= 1) return n;
  for (std::size_t k = 1; k < n; ++k) {
    if (pos + k >= s.size()) {
      *truncated = true;
      *subpart = k;
      return 0;
    }
    const auto b = static_cast<unsigned char>(s[pos + k]);
    const bool ok = k == 1 ? second_byte_ok(lead, b) : (b >= 0x80 && b <= 0xBF);
    if (!ok) {
      *subpart = k;
      return 0;
    }
  }
  return n;
}

bool is_valid(std::string_view s) {
  std::size_t pos = 0, subpart;
  bool truncated;
  while (pos < s.size()) {
    if (static_cast<unsigned char>(s[pos]) < 0x80) {
      ++pos;
      continue;
    }
    std::size_t n = sequence_length(s, pos, &subpart, &truncated);
    if (n == 0) return false;
    pos += n;
  }
  return true;
}

std::string sanitize(std::string_view s) {
  if (is_valid(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + 16);
  std::size_t pos = 0, subpart;
  bool truncated;
  while (pos < s.size()) {
    std::size_t n = sequence_length(s, pos, &subpart, &truncated);
    if (n == 0) {
      append(out, kReplacement);
      pos += subpart;
    } else {
      out.append(s.substr(pos, n));
      pos += n;
    }
  }
  return out;
}

std::size_t complete_prefix(std::string_view s) {
  // Only the last 3 bytes can belong to a sequence still waiting for its continuation.
  std::size_t start = s.size() > 3 ? s.size() - 3 : 0;
  for (std::size_t pos = start; pos < s.size(); ++pos) {
    const auto b = static_cast<unsigned char>(s[pos]);
    if (b >= 0x80 && b <= 0xBF) continue;  // continuation: not a start
    std::size_t subpart;
    bool truncated;
    sequence_length(s, pos, &subpart, &truncated);
    if (truncated) return pos;
  }
  return s.size();
}

char32_t decode(std::string_view s, std::size_t& pos) {
  const auto b0 = static_cast<unsigned char>(s[pos]);
  if (b0 < 0x80) {
    ++pos;
    return b0;
  }
  std::size_t n = b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : 2;
  char32_t cp = b0 & (0x7F >> n);
  for (std::size_t k = 1; k < n && pos + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[pos + k]) & 0x3F);
  pos += n;
  return cp;
}

void append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::size_t previous_start(std::string_view s, std::size_t end) {
  std::size_t pos = end - 1;
  while (pos > 0 && (static_cast<unsigned char>(s[pos]) & 0xC0) == 0x80) --pos;
  return pos;
}

bool is_white_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

std::size_t char_size(std::string_view s, std::size_t pos) {
  const std::size_t n = declared_length(static_cast<unsigned char>(s[pos]));
  if (pos + n > s.size()) return 1;
  for (std::size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[pos + k]) & 0xC0) != 0x80) return 1;
  return n;
}

std::size_t length(std::string_view s) {
  std::size_t count = 0;
  for (std::size_t pos = 0; pos < s.size(); pos += char_size(s, pos)) ++count;
  return count;
}

std::vector<std::size_t> starts(std::string_view s) {
  std::vector<std::size_t> out;
  for (std::size_t pos = 0; pos < s.size(); pos += char_size(s, pos)) out.push_back(pos);
  out.push_back(s.size());
  return out;
}

char32_t code_point_at(std::string_view s, std::size_t pos) {
  if (char_size(s, pos) == 1) return static_cast<unsigned char>(s[pos]);
  return decode(s, pos);  // a complete sequence of 2-4 bytes: decode reads exactly that
}

}  // namespace dsv2::utf8
