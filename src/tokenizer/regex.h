// A compiled PCRE2 pattern that behaves like the Oniguruma regexes Hugging Face tokenizers use
// for Split pre-tokenizers (UTF-8, Unicode properties, JIT-compiled).
//
// Differences from PCRE2's defaults that matter, and how they are closed:
// - Onig's Unicode \s is exactly the White_Space property; PCRE2_UCP's \s also matches U+180E
//   (via \h). \s / \S outside classes and \s inside classes are rewritten to explicit sets.
// - Onig's \w is Letter|Mark|Decimal_Number|Connector_Punctuation; PCRE2 10.42's is L|N|_.
//   \w / \W are rewritten the same way.
// - Onig (Ruby syntax, HF's default) treats ^ and $ as line anchors: $ matches before any \n
//   and at the end. That is PCRE2_MULTILINE (not DOLLAR_ENDONLY).
// Patterns are compiled from their UTF-8 bytes as written in the file, never normalised.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace dsv2 {

class Regex {
 public:
  // what names the pattern's origin in error messages (e.g. "tokenizer.json: pre_tokenizer").
  Regex(std::string_view pattern, const std::string& what, bool literal = false);
  Regex(Regex&&) noexcept;
  Regex& operator=(Regex&&) noexcept;
  ~Regex();

  // Finds the first match in subject at or after start; subject must be valid UTF-8 and
  // start on a character boundary. Returns false if none. Thread-safe.
  bool find(std::string_view subject, std::size_t start, std::size_t* match_begin, std::size_t* match_end) const;
  const std::string& pattern() const { return pattern_; }

  // The Onig-compatible rewrite of \s, \S, \w, \W described above (exposed for tests).
  static std::string rewrite_for_pcre2(std::string_view pattern);

 private:
  struct Code;
  std::string pattern_;
  std::string what_;
  std::unique_ptr<Code> code_;
};

}  // namespace dsv2
