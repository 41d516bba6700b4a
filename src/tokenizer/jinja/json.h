// The tojson filter as transformers defines it: Python's json.dumps(x, ensure_ascii=False) by
// default, so separators are ", " and ": " and non-ASCII text is written as is.
#pragma once
#include <optional>
#include <string>

#include "tokenizer/jinja/value.h"

namespace dsv2::jinja {

struct JsonOptions {
  std::optional<int> indent;  // nullopt: one line
  bool sort_keys = false;
  bool ensure_ascii = false;
};

std::string to_json(const Value& v, const JsonOptions& options);

}  // namespace dsv2::jinja
