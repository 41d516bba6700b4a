// A forward step runs over a batch of rows, each one token of some sequence at some position.
// Prefill (many rows of one sequence), decode (one row) and continuous batching (rows of many
// sequences) are all the same call.
#pragma once
#include <cstdint>
#include <vector>

namespace dsv2 {

class KvCache;

struct BatchRow {
  std::int32_t token = 0;
  std::int64_t pos = 0;       // position in its sequence; rows of a sequence are consecutive
  KvCache* cache = nullptr;   // the sequence's cache, appended to by this step
  bool want_logits = false;   // compute this row's logits
  // A token of the prompt (given), not a generated one. With the model's expand_prompts, prompt
  // rows attend in the expanded form (mla_expanded.h), generated rows in the absorbed form:
  // which one a row takes depends on the row alone, never on its batch, so prompt chunking
  // changes no result. Prompt rows then follow the generated ones in a batch (the engine's order).
  bool prompt = false;
};

// Grows v to at least n elements (never shrinks), so steady-state steps allocate nothing.
template <typename T>
T* grow(std::vector<T>& v, std::size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

}  // namespace dsv2
