// Split behaviours, Digits, ByteLevel and the regex dialect, on small hand-checked inputs.
#include "tokenizer/pretokenizer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace dsv2 {
namespace {

using Pieces = std::vector<std::string>;

Pieces split(const Regex& re, SplitBehavior b, bool invert, std::string_view text) {
  std::vector<std::string_view> out;
  split_by_regex(text, re, b, invert, out);
  return Pieces(out.begin(), out.end());
}

Pieces pretokenize(const nlohmann::json& spec, std::string_view text) {
  PreTokenizer p = PreTokenizer::from_json(spec, "test");
  std::vector<std::string_view> out;
  std::list<std::string> arena;
  p.split(text, out, arena);
  return Pieces(out.begin(), out.end());
}

// The examples of HF's SplitDelimiterBehavior documentation: "the-final--countdown" on '-'.
TEST(SplitBehavior, AllFiveOnHyphens) {
  Regex dash("-", "test");
  const std::string t = "the-final--countdown";
  EXPECT_EQ(split(dash, SplitBehavior::Removed, false, t), (Pieces{"the", "final", "countdown"}));
  EXPECT_EQ(split(dash, SplitBehavior::Isolated, false, t), (Pieces{"the", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(split(dash, SplitBehavior::MergedWithPrevious, false, t), (Pieces{"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(split(dash, SplitBehavior::MergedWithNext, false, t), (Pieces{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(split(dash, SplitBehavior::Contiguous, false, t), (Pieces{"the", "-", "final", "--", "countdown"}));
}

TEST(SplitBehavior, InvertSwapsMatchesAndGaps) {
  Regex word("[a-z]+", "test");
  EXPECT_EQ(split(word, SplitBehavior::Removed, true, "ab, cd!"), (Pieces{"ab", "cd"}));
  EXPECT_EQ(split(word, SplitBehavior::Isolated, true, "ab, cd!"), (Pieces{"ab", ", ", "cd", "!"}));
}

TEST(SplitBehavior, EmptyMatchesAreDropped) {
  Regex opt("x*", "test");
  EXPECT_EQ(split(opt, SplitBehavior::Isolated, false, "axxb"), (Pieces{"a", "xx", "b"}));
  EXPECT_EQ(split(opt, SplitBehavior::Isolated, false, ""), Pieces{});
}

TEST(RegexDialect, WhiteSpaceIsTheUnicodePropertyLikeOnig) {
  Regex s("\\s", "test");
  std::size_t b, e;
  for (const char* ws : {" ", "\t", "\n", "\v", "\f", "\r", "\u0085", "\u00a0", "\u2028", "\u3000", "\u2003"}) {
    EXPECT_TRUE(s.find(ws, 0, &b, &e)) << ws;
  }
  EXPECT_FALSE(s.find("\u180e", 0, &b, &e));  // PCRE2's \h has U+180E; Onig's \s does not
  EXPECT_FALSE(s.find("\u200b", 0, &b, &e));
  Regex not_s("[^\\s]+", "test");
  ASSERT_TRUE(not_s.find("\u180e", 0, &b, &e));
  EXPECT_EQ(Regex::rewrite_for_pcre2("\\s?[^\\s\\p{L}]\\S\\w"),
            "[\\t-\\r\\x{85}\\p{Zs}\\x{2028}\\x{2029}]?[^\\t-\\r\\x{85}\\p{Zs}\\x{2028}\\x{2029}\\p{L}]"
            "[^\\t-\\r\\x{85}\\p{Zs}\\x{2028}\\x{2029}][\\p{L}\\p{M}\\p{Nd}\\p{Pc}]");
}

TEST(RegexDialect, DollarIsEndOfLine) {
  Regex trailing("\\s+$", "test");
  std::size_t b, e;
  // Onig (HF) treats $ as end of line: the spaces before an inner \n match.
  ASSERT_TRUE(trailing.find("a  \nb", 0, &b, &e));
  EXPECT_EQ(b, 1u);
  EXPECT_EQ(e, 3u);
}

TEST(RegexDialect, BadPatternIsAnErrorNamingIt) {
  try {
    Regex bad("[a-", "tokenizer.json: pre_tokenizer");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer.json: pre_tokenizer"), std::string::npos);
  }
}

TEST(PreTokenizer, DigitsIndividualOrContiguous) {
  nlohmann::json one = {{"type", "Digits"}, {"individual_digits", true}};
  nlohmann::json runs = {{"type", "Digits"}, {"individual_digits", false}};
  EXPECT_EQ(pretokenize(one, "a123b½"), (Pieces{"a", "1", "2", "3", "b", "½"}));
  EXPECT_EQ(pretokenize(runs, "a123b45"), (Pieces{"a", "123", "b", "45"}));
}

TEST(PreTokenizer, ByteLevelRegexAndPrefixSpace) {
  nlohmann::json gpt2 = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}};
  EXPECT_EQ(pretokenize(gpt2, "Hello world's  end 42!!"),
            (Pieces{"Hello", " world", "'s", " ", " end", " 42", "!!"}));
  nlohmann::json prefix = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"use_regex", false}};
  EXPECT_EQ(pretokenize(prefix, "Hi"), (Pieces{" Hi"}));
  EXPECT_EQ(pretokenize(prefix, " Hi"), (Pieces{" Hi"}));
}

TEST(PreTokenizer, UnknownTypesAndBehavioursAreErrors) {
  EXPECT_THROW(pretokenize({{"type", "Metaspace"}}, "x"), Error);
  EXPECT_THROW(pretokenize({{"type", "Split"}, {"pattern", {{"Regex", "a"}}}, {"behavior", "Sideways"}}, "x"), Error);
  EXPECT_EQ(pretokenize(nullptr, "as is"), (Pieces{"as is"}));
}

}  // namespace
}  // namespace dsv2
