// split_by_regex: HF's Pattern::find_matches over an Onig regex, then the delimiter behaviour,
// then dropping empty pieces — step for step, so corner cases (empty matches, adjacent
// matches, invert) come out the same.
#include <cstdint>

#include "tokenizer/pretokenizer.h"
#include "tokenizer/utf8.h"

namespace dsv2 {

namespace {
struct Span {
  std::size_t begin, end;
  bool match;
};

std::size_t char_length_at(std::string_view s, std::size_t pos) {
  if (pos >= s.size()) return 1;  // like Onig's iterator: step past the end and stop
  std::size_t next = pos;
  utf8::decode(s, next);
  return next - pos;
}

// Calls on_match(begin, end) for each match in order (Onig's find_iter: an empty match right
// where the previous match ended is skipped by advancing one character).
template <class OnMatch>
void for_each_match(std::string_view piece, const Regex& re, OnMatch on_match) {
  std::size_t last_end = 0, s = 0, e = 0;
  bool have_last_match = false;
  std::size_t last_match_end = 0;
  while (last_end <= piece.size() && re.find(piece, last_end, &s, &e)) {
    if (s == e && have_last_match && last_match_end == e) {
      last_end += char_length_at(piece, last_end);
      continue;
    }
    last_end = e;
    have_last_match = true;
    last_match_end = e;
    on_match(s, e);
  }
}

// Matches and the gaps between them, in order.
void find_spans(std::string_view piece, const Regex& re, bool invert, std::vector<Span>& spans) {
  std::size_t prev = 0;
  for_each_match(piece, re, [&](std::size_t s, std::size_t e) {
    if (prev != s) spans.push_back({prev, s, invert});
    spans.push_back({s, e, !invert});
    prev = e;
  });
  if (prev != piece.size()) spans.push_back({prev, piece.size(), invert});
}

// The delimiter behaviours, as folds over the spans (HF SplitDelimiterBehavior).
void merge_with_previous(std::vector<Span>& spans) {
  std::vector<Span> acc;
  bool previous_match = false;
  for (const Span& sp : spans) {
    if (sp.match && !previous_match && !acc.empty()) acc.back().end = sp.end;
    else acc.push_back(sp);
    previous_match = sp.match;
  }
  spans.swap(acc);
}

void merge_with_next(std::vector<Span>& spans) {
  std::vector<Span> acc;
  bool previous_match = false;
  for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
    if (it->match && !previous_match && !acc.empty()) acc.back().begin = it->begin;
    else acc.push_back(*it);
    previous_match = it->match;
  }
  spans.assign(acc.rbegin(), acc.rend());
}

void merge_contiguous(std::vector<Span>& spans) {
  std::vector<Span> acc;
  bool previous_match = false;
  for (const Span& sp : spans) {
    if (sp.match == previous_match && !acc.empty()) acc.back().end = sp.end;
    else acc.push_back(sp);
    previous_match = sp.match;
  }
  spans.swap(acc);
}

// The common case (Isolated, not inverted) without the intermediate span list.
void split_isolated(std::string_view piece, const Regex& re, std::vector<std::string_view>& out) {
  std::size_t prev = 0;
  for_each_match(piece, re, [&](std::size_t s, std::size_t e) {
    if (prev != s) out.push_back(piece.substr(prev, s - prev));
    if (e != s) out.push_back(piece.substr(s, e - s));
    prev = e;
  });
  if (prev != piece.size()) out.push_back(piece.substr(prev));
}
}  // namespace

void split_by_regex(std::string_view piece, const Regex& re, SplitBehavior behavior, bool invert,
                    std::vector<std::string_view>& out) {
  if (behavior == SplitBehavior::Isolated && !invert) return split_isolated(piece, re, out);
  thread_local std::vector<Span> spans;
  spans.clear();
  find_spans(piece, re, invert, spans);
  switch (behavior) {
    case SplitBehavior::Isolated: break;
    case SplitBehavior::Removed: std::erase_if(spans, [](const Span& sp) { return sp.match; }); break;
    case SplitBehavior::MergedWithPrevious: merge_with_previous(spans); break;
    case SplitBehavior::MergedWithNext: merge_with_next(spans); break;
    case SplitBehavior::Contiguous: merge_contiguous(spans); break;
  }
  for (const Span& sp : spans) {
    if (sp.end > sp.begin) out.push_back(piece.substr(sp.begin, sp.end - sp.begin));
  }
}

}  // namespace dsv2
