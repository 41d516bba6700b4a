// Stop strings over streamed text. Tokens end anywhere, so a stop string can arrive split over
// several tokens, and a held-back prefix may yet turn out not to be one. The matcher buffers
// exactly the tail that could still start a stop string (plus an unfinished UTF-8 character)
// and releases everything before it, so a client never sees a byte of a stop string.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace dsv2 {

class StopMatcher {
 public:
  struct Result {
    std::string text;      // safe to emit now
    bool stopped = false;  // a stop string was hit: text ends just before it; generation ends
    int stop_index = -1;   // which of the stop strings, when stopped
  };

  // Empty strings are ignored: they would end every generation before its first byte.
  explicit StopMatcher(std::vector<std::string> stops);

  // Feed newly decoded text. After a stop, further text is dropped (stopped stays true).
  Result feed(std::string_view text);
  // End of generation without a stop: returns what was held back (possibly an unfinished
  // UTF-8 character, which the caller may replace with U+FFFD).
  std::string flush();

  bool stopped() const { return stop_index_ >= 0; }
  void reset();  // for the next generation with the same stop strings

 private:
  int first_stop(size_t& start) const;  // index of the stop hit in pending_, or -1
  size_t held_tail_length() const;

  std::vector<std::string> stops_;
  std::string pending_;  // decoded but not yet emitted
  int stop_index_ = -1;
};

}  // namespace dsv2
