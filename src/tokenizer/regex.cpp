#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/regex.h"

#include <pcre2.h>

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
struct ThreadMatchData {
  pcre2_match_data* md = pcre2_match_data_create(1, nullptr);
  ~ThreadMatchData() { pcre2_match_data_free(md); }
};
pcre2_match_data* thread_match_data() {
  thread_local ThreadMatchData data;
  return data.md;
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
  ~Code() { pcre2_code_free(code); }
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
}

Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;
Regex::~Regex() = default;

bool Regex::find(std::string_view subject, std::size_t start, std::size_t* match_begin,
                 std::size_t* match_end) const {
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
