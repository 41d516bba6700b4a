#include "generate/stop.h"

#include <gtest/gtest.h>

namespace dsv2 {
namespace {

struct Outcome {
  std::string text;  // everything emitted, flush included
  bool stopped = false;
  int stop_index = -1;
  bool operator==(const Outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  return os << "{\"" << o.text << "\", stopped=" << o.stopped << ", index=" << o.stop_index << "}";
}

// True when s is a whole number of UTF-8 characters (s itself is assumed well formed).
bool ends_on_char_boundary(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    i += b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
  }
  return i == s.size();
}

Outcome run(const std::vector<std::string>& stops, const std::vector<std::string>& chunks) {
  StopMatcher m(stops);
  Outcome o;
  for (const auto& chunk : chunks) {
    const auto r = m.feed(chunk);
    EXPECT_TRUE(ends_on_char_boundary(r.text)) << "split a character: " << r.text;
    o.text += r.text;
    o.stopped = r.stopped;
    o.stop_index = r.stop_index;
  }
  o.text += m.flush();
  return o;
}

// Feeds text cut at every pair of positions (so every one- and two-cut chunking, including
// empty chunks) and byte by byte; all must agree with `expect`.
void expect_all_splits(const std::vector<std::string>& stops, const std::string& text,
                       const Outcome& expect) {
  for (size_t a = 0; a <= text.size(); ++a) {
    for (size_t b = a; b <= text.size(); ++b) {
      const Outcome got = run(stops, {text.substr(0, a), text.substr(a, b - a), text.substr(b)});
      ASSERT_EQ(got, expect) << "cuts at " << a << ", " << b;
    }
  }
  std::vector<std::string> bytes;
  for (char c : text) bytes.emplace_back(1, c);
  EXPECT_EQ(run(stops, bytes), expect) << "byte by byte";
}

TEST(StopMatcher, StopsAcrossEveryBoundary) {
  expect_all_splits({"<|end|>"}, "Hello world<|end|>more", {"Hello world", true, 0});
}

TEST(StopMatcher, NoStopEmitsEverything) {
  expect_all_splits({"<|end|>"}, "a <|en d|> <|end| b", {"a <|en d|> <|end| b", false, -1});
  expect_all_splits({}, "no stops at all", {"no stops at all", false, -1});
}

TEST(StopMatcher, HoldsBackOnlyAPossibleStart) {
  StopMatcher m({"</s>"});
  EXPECT_EQ(m.feed("abc</").text, "abc");
  EXPECT_EQ(m.feed("b").text, "</b");  // false start: released at once
  EXPECT_EQ(m.feed("x<").text, "x");
  EXPECT_EQ(m.flush(), "<");  // end of generation: the held tail is real text
  EXPECT_FALSE(m.stopped());
}

TEST(StopMatcher, StopAtStart) {
  expect_all_splits({"STOP"}, "STOPfoo", {"", true, 0});
}

TEST(StopMatcher, SelfOverlappingStop) {
  // After "aa", "aab" may still start one byte later.
  expect_all_splits({"aab"}, "xaaaab!", {"xaa", true, 0});
}

TEST(StopMatcher, FirstToCompleteWinsAmongOverlappingStops) {
  // "bc" completes at byte 4, before "abcd" does, whatever the chunking.
  expect_all_splits({"abcd", "bc"}, "xabcde", {"xa", true, 1});
  // Both end at the same byte: the longer wins, so no byte of "abc" is emitted.
  expect_all_splits({"bc", "abc"}, "xabcd", {"x", true, 1});
  expect_all_splits({"abc", "bc"}, "xabcd", {"x", true, 0});
}

TEST(StopMatcher, TextAfterAStopIsDropped) {
  StopMatcher m({"\n\n"});
  auto r = m.feed("line\n\nnext");
  EXPECT_EQ(r.text, "line");
  EXPECT_TRUE(r.stopped);
  r = m.feed("more");
  EXPECT_EQ(r.text, "");
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.stop_index, 0);
  EXPECT_EQ(m.flush(), "");
}

TEST(StopMatcher, MultiByteTextAroundStops) {
  expect_all_splits({"。"}, "你好。再见", {"你好", true, 0});
  expect_all_splits({"é!"}, "café é? é!x", {"café é? ", true, 0});
  // "丢" and "中" share their first two bytes: a held prefix that turns out to be another char.
  expect_all_splits({"丢"}, "中文中丢", {"中文中", true, 0});
  expect_all_splits({"丢"}, "中文🙂", {"中文🙂", false, -1});
}

TEST(StopMatcher, NeverSplitsAnUnfinishedCharacter) {
  StopMatcher m({});
  EXPECT_EQ(m.feed("a\xE4").text, "a");
  EXPECT_EQ(m.feed("\xB8").text, "");
  EXPECT_EQ(m.feed("\xAD!").text, "中!");
  EXPECT_EQ(m.feed("\xF0\x9F").text, "");
  EXPECT_EQ(m.flush(), "\xF0\x9F");  // given back as is; the caller decides on U+FFFD
}

TEST(StopMatcher, EmptyStopStringsAreIgnored) {
  expect_all_splits({"", "END"}, "abcEND", {"abc", true, 1});
}

TEST(StopMatcher, ResetStartsOver) {
  StopMatcher m({"END"});
  EXPECT_TRUE(m.feed("xEND").stopped);
  m.reset();
  EXPECT_FALSE(m.stopped());
  EXPECT_EQ(m.feed("yE").text, "y");
  EXPECT_EQ(m.flush(), "E");
}

}  // namespace
}  // namespace dsv2
