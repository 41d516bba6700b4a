#include "generate/stop.h"

#include <algorithm>

namespace dsv2 {
namespace {

bool is_continuation(unsigned char b) { return (b & 0xC0) == 0x80; }

// Bytes at the end of s that start a UTF-8 character still missing bytes (0 if none).
size_t unfinished_char_length(std::string_view s) {
  for (size_t k = 1; k <= std::min<size_t>(4, s.size()); ++k) {
    const auto b = static_cast<unsigned char>(s[s.size() - k]);
    if (is_continuation(b)) continue;
    const size_t need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
    return need > k ? k : 0;
  }
  return 0;  // not UTF-8: nothing to wait for
}

// Length of the longest proper prefix of stop that s ends with.
size_t partial_match_length(std::string_view s, std::string_view stop) {
  for (size_t len = std::min(s.size(), stop.size() - 1); len > 0; --len) {
    if (s.ends_with(stop.substr(0, len))) return len;
  }
  return 0;
}

}  // namespace

StopMatcher::StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {}

void StopMatcher::reset() {
  pending_.clear();
  stop_index_ = -1;
}

StopMatcher::Result StopMatcher::feed(std::string_view text) {
  if (stopped()) return {"", true, stop_index_};
  pending_.append(text);
  size_t start = 0;
  stop_index_ = first_stop(start);
  Result out;
  if (stopped()) {
    out.text = pending_.substr(0, start);
    pending_.clear();
  } else {
    const size_t cut = pending_.size() - held_tail_length();
    out.text = pending_.substr(0, cut);
    pending_.erase(0, cut);
  }
  out.stopped = stopped();
  out.stop_index = stop_index_;
  return out;
}

// The stop that completes first is the one a byte-at-a-time stream would have seen, so the
// result does not depend on how the text was chunked. Among those ending at the same byte the
// longest wins: emitting text before a shorter one would leak the head of the longer one.
int StopMatcher::first_stop(size_t& start) const {
  int found = -1;
  size_t best_end = std::string::npos;
  for (size_t i = 0; i < stops_.size(); ++i) {
    if (stops_[i].empty()) continue;
    const size_t pos = pending_.find(stops_[i]);
    if (pos == std::string::npos) continue;
    const size_t end = pos + stops_[i].size();
    if (end < best_end || (end == best_end && pos < start)) {
      best_end = end;
      start = pos;
      found = static_cast<int>(i);
    }
  }
  return found;
}

std::string StopMatcher::flush() {
  std::string rest = std::move(pending_);
  pending_.clear();
  return rest;
}

// How much of pending_ to keep back: the longest tail that could begin a stop string, or an
// unfinished UTF-8 character, widened so the cut never falls inside a character.
size_t StopMatcher::held_tail_length() const {
  size_t hold = unfinished_char_length(pending_);
  for (const std::string& stop : stops_) {
    if (!stop.empty()) hold = std::max(hold, partial_match_length(pending_, stop));
  }
  size_t cut = pending_.size() - hold;
  // A valid stop string starts on a character boundary already; this guards invalid ones.
  for (int k = 0; k < 3 && cut > 0 && cut < pending_.size(); ++k) {
    if (!is_continuation(static_cast<unsigned char>(pending_[cut]))) break;
    --cut;
  }
  return pending_.size() - cut;
}

}  // namespace dsv2
