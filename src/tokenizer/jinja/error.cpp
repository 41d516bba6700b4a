#include "tokenizer/jinja/error.h"

#include "tokenizer/utf8.h"

namespace dsv2::jinja {

std::string describe_position(std::string_view source, std::size_t offset) {
  if (offset > source.size()) offset = source.size();
  std::size_t line = 1, line_start = 0;
  for (std::size_t i = 0; i < offset; ++i) {
    if (source[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  const std::size_t column = utf8::length(source.substr(line_start, offset - line_start)) + 1;
  return std::to_string(line) + ":" + std::to_string(column);
}

}  // namespace dsv2::jinja
