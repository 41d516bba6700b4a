#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/regex.h"

#include <pcre2.h>

#include <array>
#include <cstdint>

#include "util/error.h"

namespace dsv2 {

namespace {
constexpr std::string_view kSpaceSet = "\\t-\\r\\x{85}\\p{Zs}\\x{2028}\\x{2029}";
constexpr std::string_view kWordSet = "\\p{L}\\p{M}\\p{Nd}\\p{Pc}";

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  pcre2_get_error_message(code, buf, sizeof(buf));
  return reinterpret_cast<const char*>(buf);
}

// One match-data block per thread, shared by all patterns: only the whole-match offsets are
// used, so one ovector pair is enough and no allocation happens per match.
// The hot path reads a plain thread_local pointer (no TLS guard); the owner frees it at exit.
struct ThreadMatchData {
  pcre2_match_data* md = pcre2_match_data_create(1, nullptr);
  ~ThreadMatchData() { pcre2_match_data_free(md); }
};
thread_local pcre2_match_data* t_match_data = nullptr;
pcre2_match_data* thread_match_data() {
  if (t_match_data) return t_match_data;
  thread_local ThreadMatchData owner;
  return t_match_data = owner.md;
}

// Copies a POSIX class "[:name:]" starting at p[i]; returns the index of its last byte.
std::size_t copy_posix_class(std::string_view p, std::size_t i, std::string& out) {
  std::size_t end = p.find(":]", i + 2);
  if (end == std::string_view::npos) {
    out += p[i];
    return i;
  }
  out += p.substr(i, end + 2 - i);
  return end + 1;
}
}  // namespace

struct Regex::Code {
  pcre2_code* code = nullptr;
  bool jit = false;
  // Bytes a match can start with (PCRE2's own start bitmap), when PCRE2 computed one. Pieces
  // with none of them are rejected by a byte scan instead of a library call: most pieces fail
  // most Split patterns, and the call overhead dominates for short pieces.
  bool prefilter = false;
  std::array<bool, 256> first{};
  ~Code() { pcre2_code_free(code); }

  void read_start_bitmap() {
    std::uint32_t min_length = 0;
    const std::uint8_t* bitmap = nullptr;
    if (pcre2_pattern_info(code, PCRE2_INFO_MINLENGTH, &min_length) != 0 || min_length == 0) return;
    if (pcre2_pattern_info(code, PCRE2_INFO_FIRSTBITMAP, &bitmap) != 0 || bitmap == nullptr) return;
    for (int b = 0; b < 256; ++b) first[b] = (bitmap[b / 8] >> (b % 8)) & 1;
    for (int b = 0x80; b < 0xC0; ++b) first[b] = false;  // never stop inside a character
    prefilter = true;
  }
};

std::string Regex::rewrite_for_pcre2(std::string_view p) {
  std::string out;
  bool in_class = false;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      const char e = p[++i];
      const bool neg = e == 'S' || e == 'W';
      std::string_view set = (e == 's' || e == 'S') ? kSpaceSet : (e == 'w' || e == 'W') ? kWordSet : "";
      if (set.empty() || (in_class && neg)) {  // a negated set inside a class has no rewrite
        out += c;
        out += e;
      } else if (in_class) {
        out += set;
      } else {
        out += neg ? "[^" : "[";
        out += set;
        out += ']';
      }
    } else if (!in_class && c == '[') {
      in_class = true;
      out += c;
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];  // a leading ']' is literal
    } else if (in_class && c == '[' && i + 1 < p.size() && p[i + 1] == ':') {
      i = copy_posix_class(p, i, out);
    } else {
      if (in_class && c == ']') in_class = false;
      out += c;
    }
  }
  return out;
}

Regex::Regex(std::string_view pattern, const std::string& what, bool literal)
    : pattern_(pattern), what_(what), code_(std::make_unique<Code>()) {
  std::string compiled = literal ? pattern_ : rewrite_for_pcre2(pattern_);
  std::uint32_t options = PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE;
  if (literal) options = PCRE2_UTF | PCRE2_LITERAL;
  int err = 0;
  PCRE2_SIZE err_offset = 0;
  code_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(compiled.data()), compiled.size(), options, &err,
                              &err_offset, nullptr);
  if (!code_->code) {
    throw Error(what + ": bad regex '" + pattern_ + "': " + pcre2_message(err) + " at offset " +
                std::to_string(err_offset));
  }
  code_->jit = pcre2_jit_compile(code_->code, PCRE2_JIT_COMPLETE) == 0;
  code_->read_start_bitmap();
}

Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;
Regex::~Regex() = default;

bool Regex::find(std::string_view subject, std::size_t start, std::size_t* match_begin,
                 std::size_t* match_end) const {
  if (code_->prefilter) {
    while (start < subject.size() && !code_->first[static_cast<unsigned char>(subject[start])]) ++start;
    if (start >= subject.size()) return false;  // min length > 0: no match can start at the end
  }
  pcre2_match_data* md = thread_match_data();
  auto s = reinterpret_cast<PCRE2_SPTR>(subject.data());
  int rc = code_->jit ? pcre2_jit_match(code_->code, s, subject.size(), start, 0, md, nullptr)
                      : pcre2_match(code_->code, s, subject.size(), start, PCRE2_NO_UTF_CHECK, md, nullptr);
  if (rc == PCRE2_ERROR_NOMATCH) return false;
  if (rc < 0) throw Error(what_ + ": regex '" + pattern_ + "' failed: " + pcre2_message(rc));
  const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
  *match_begin = ov[0];
  *match_end = ov[1];
  return true;
}

}  // namespace dsv2
