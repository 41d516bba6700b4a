// Small parsers for user-given values on the command line.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace dsv2 {

// "1,2,3" or "1 2 3" (any mix of commas and whitespace) -> ids; `what` names the source in errors.
std::vector<std::int32_t> parse_id_list(const std::string& text, const std::string& what);

}  // namespace dsv2
