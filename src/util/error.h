// One error type for bad input at the boundaries (files, configs, requests). The message is a
// single line that names the file, field or parameter at fault; callers print it and carry on.
#pragma once
#include <stdexcept>
#include <string>

namespace dsv2 {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Throws Error(message) unless cond holds. For input validation, not internal invariants.
inline void check(bool cond, const std::string& message) {
  if (!cond) throw Error(message);
}
// Literal messages build no std::string unless they fail (hot paths must not allocate).
inline void check(bool cond, const char* message) {
  if (!cond) throw Error(message);
}

}  // namespace dsv2
