#include "util/parse.h"

#include <cctype>
#include <charconv>

#include "util/error.h"

namespace dsv2 {

std::vector<std::int32_t> parse_id_list(const std::string& text, const std::string& what) {
  std::vector<std::int32_t> ids;
  std::size_t i = 0;
  auto is_sep = [](char c) { return c == ',' || std::isspace(static_cast<unsigned char>(c)); };
  while (i < text.size()) {
    if (is_sep(text[i])) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < text.size() && !is_sep(text[j])) ++j;
    std::int32_t v = 0;
    auto [end, ec] = std::from_chars(text.data() + i, text.data() + j, v);
    check(ec == std::errc() && end == text.data() + j && v >= 0,
          what + ": '" + text.substr(i, j - i) + "' is not a token id (a non-negative integer)");
    ids.push_back(v);
    i = j;
  }
  return ids;
}

}  // namespace dsv2
