// Incremental detokenization for generation: feed ids one at a time and get back only complete
// UTF-8. A multi-byte character split across tokens (an emoji is often 2-4 byte tokens) is held
// back until its last byte arrives; bytes that can never form a character come out as U+FFFD
// at once. The concatenation of all outputs and flush() equals Tokenizer::decode of the ids.
#pragma once
#include <cstdint>
#include <string>

namespace dsv2 {

class Tokenizer;

class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer, bool skip_special = false)
      : tok_(&tokenizer), skip_special_(skip_special) {}

  std::string feed(std::int32_t id);  // throws Error for an out-of-range id
  std::string flush();                // the held-back tail, incomplete sequences as U+FFFD
  bool pending() const { return !pending_.empty(); }

 private:
  const Tokenizer* tok_;
  bool skip_special_;
  std::string pending_;
};

}  // namespace dsv2
