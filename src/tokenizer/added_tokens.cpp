#include "tokenizer/added_tokens.h"

#include <algorithm>

#include "tokenizer/regex.h"
#include "tokenizer/utf8.h"

namespace dsv2 {

namespace {
// HF tests single_word with the Rust regex crate's Unicode \w (Alphabetic, marks, decimal
// digits, connector punctuation, joiners); it is not Onig's \w, so it is spelled out here.
const Regex& word_char() {
  static const Regex re("^[\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\x{200C}\\x{200D}]", "added token single_word");
  return re;
}
bool word_char_before(std::string_view text, std::size_t pos) {
  if (pos == 0) return false;
  std::size_t start = utf8::previous_start(text, pos), b, e;
  return word_char().find(text.substr(start, pos - start), 0, &b, &e);
}
bool word_char_after(std::string_view text, std::size_t pos) {
  if (pos >= text.size()) return false;
  std::size_t next = pos, b, e;
  utf8::decode(text, next);
  return word_char().find(text.substr(pos, next - pos), 0, &b, &e);
}
// Whitespace (White_Space, as Rust's \s) ending at pos / starting at pos.
std::size_t space_start_before(std::string_view text, std::size_t pos) {
  while (pos > 0) {
    std::size_t start = utf8::previous_start(text, pos), p = start;
    if (!utf8::is_white_space(utf8::decode(text, p))) break;
    pos = start;
  }
  return pos;
}
std::size_t space_end_after(std::string_view text, std::size_t pos) {
  while (pos < text.size()) {
    std::size_t p = pos;
    if (!utf8::is_white_space(utf8::decode(text, p))) break;
    pos = p;
  }
  return pos;
}
}  // namespace

void AddedTokens::Trie::insert(std::string_view s, std::int32_t token) {
  std::int32_t node = 0;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    auto& next = nodes[node].next;
    auto it = std::find_if(next.begin(), next.end(), [c](const auto& e) { return e.first == c; });
    if (it != next.end()) {
      node = it->second;
    } else {
      auto child = static_cast<std::int32_t>(nodes.size());
      nodes[node].next.emplace_back(c, child);  // may reallocate nodes: do not keep `next`
      nodes.emplace_back();
      node = child;
    }
  }
  if (nodes[node].token < 0) nodes[node].token = token;  // a repeated content: the first wins
  if (!s.empty()) first[static_cast<unsigned char>(s[0])] = true;
}

std::int32_t AddedTokens::Trie::longest(std::string_view text, std::size_t pos, std::size_t* len) const {
  std::int32_t node = 0, best = -1;
  for (std::size_t i = pos; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    const auto& next = nodes[node].next;
    auto it = std::find_if(next.begin(), next.end(), [c](const auto& e) { return e.first == c; });
    if (it == next.end()) break;
    node = it->second;
    if (nodes[node].token >= 0) {
      best = nodes[node].token;
      *len = i + 1 - pos;
    }
  }
  return best;
}

AddedTokens::AddedTokens(std::vector<AddedToken> tokens) : tokens_(std::move(tokens)) {
  for (std::size_t k = 0; k < tokens_.size(); ++k) {
    const AddedToken& t = tokens_[k];
    by_id_.emplace(t.id, k);
    by_content_.emplace(t.content, t.id);
    if (t.content.empty()) continue;
    (t.normalized ? normalized_ : non_normalized_).insert(t.content, static_cast<std::int32_t>(k));
  }
}

void AddedTokens::split_pass(const Trie& trie, std::string_view text, std::vector<Segment>& out) const {
  std::size_t done = 0;  // end of the last token taken
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t len = 0;
    std::int32_t k = trie.first[static_cast<unsigned char>(text[pos])] ? trie.longest(text, pos, &len) : -1;
    if (k < 0) {
      ++pos;
      continue;
    }
    const AddedToken& t = tokens_[k];
    std::size_t start = pos, stop = pos + len;
    pos = stop;  // a rejected match is skipped whole, like the Aho-Corasick iterator HF uses
    if (t.single_word && (word_char_before(text, start) || word_char_after(text, stop))) continue;
    if (start < done) continue;  // inside whitespace a previous rstrip swallowed
    if (t.lstrip) start = std::max(space_start_before(text, start), done);
    if (t.rstrip) stop = space_end_after(text, stop);
    if (done < start) out.push_back({text.substr(done, start - done), -1});
    out.push_back({text.substr(start, stop - start), t.id});
    done = pos = stop;
  }
  if (done < text.size()) out.push_back({text.substr(done), -1});
}

void AddedTokens::split(std::string_view text, std::vector<Segment>& out) const {
  if (tokens_.empty()) {
    if (!text.empty()) out.push_back({text, -1});
    return;
  }
  thread_local std::vector<Segment> first;
  first.clear();
  split_pass(non_normalized_, text, first);
  for (const Segment& s : first) {
    if (s.id >= 0) out.push_back(s);
    else split_pass(normalized_, s.text, out);
  }
}

std::optional<std::int32_t> AddedTokens::find(std::string_view content) const {
  auto it = by_content_.find(content);
  if (it == by_content_.end()) return std::nullopt;
  return it->second;
}

const AddedToken* AddedTokens::by_id(std::int32_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

}  // namespace dsv2
