// The one exception type inside the Jinja interpreter. ChatTemplate turns it into dsv2::Error with
// the template position spelled as line:column.
#pragma once
#include <cstddef>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>

namespace dsv2::jinja {

inline constexpr std::size_t kNoOffset = static_cast<std::size_t>(-1);

// Value operations (adding, comparing, calling a filter) do not know where in the template they
// run, so they throw without an offset; the evaluator fills in the offset of the expression that
// failed on the way out.
class TemplateError : public std::runtime_error {
 public:
  explicit TemplateError(const std::string& message, std::size_t at = kNoOffset)
      : std::runtime_error(message), offset(at) {}
  std::size_t offset;
};

// Joins message parts. (Chains of "literal" + std::string trip a GCC 12 -Wrestrict false positive.)
inline std::string cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view part : parts) out += part;
  return out;
}

// "line:column" (both from 1, column in code points) of a byte offset into source.
std::string describe_position(std::string_view source, std::size_t offset);

}  // namespace dsv2::jinja
