#include "tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "io/gguf_writer.h"
#include "tokenizer/known_pretokenizers.h"
#include "tokenizer/stream_decoder.h"
#include "tokenizer/utf8.h"
#include "tokenizer_cache.h"
#include "util/error.h"

namespace dsv2::test {
namespace {

using nlohmann::json;

json load_json(const std::string& path) { return json::parse(read_file(path)); }

TEST(Tokenizer, TextBf16GoldenPrompt) {
  json g = load_json(fixture("golden/text-bf16/golden.json"));
  Tokenizer tok = Tokenizer::from_hf_dir(fixture("golden/text-bf16/model"));
  EXPECT_EQ(tok.encode(g["prompt_text"].get<std::string>()), g["input_ids"].get<std::vector<std::int32_t>>());
}

TEST(Tokenizer, TinyCoderGoldenPromptWithItsOwnBos) {
  json g = load_json(fixture("models/tiny-coder/golden.json"));
  Tokenizer tok = Tokenizer::from_hf_dir(fixture("models/tiny-coder/model"));
  EXPECT_EQ(tok.bos_id(), 8192);  // read from the file, not the full vocab's 100000
  EXPECT_EQ(tok.eos_id(), 8193);
  auto ids = g["input_ids"].get<std::vector<std::int32_t>>();
  EXPECT_EQ(tok.encode(g["prompt_text"].get<std::string>()), ids);
  EXPECT_EQ(tok.decode(ids, /*skip_special=*/true), g["prompt_text"].get<std::string>());
}

TEST(Tokenizer, ConfigFieldsAndSpecialIds) {
  const Tokenizer& tok = v2_tokenizer();
  EXPECT_EQ(tok.bos_id(), 100000);
  EXPECT_EQ(tok.eos_id(), 100001);
  EXPECT_TRUE(tok.add_bos());
  EXPECT_EQ(tok.vocab_size(), 100005u);
  EXPECT_NE(tok.chat_template().find("Assistant:"), std::string::npos);
  EXPECT_TRUE(tok.is_special(100000));
  EXPECT_FALSE(tok.is_special(100002));
  EXPECT_EQ(tok.token_text(1843), "Ġworld");
  EXPECT_EQ(tok.token_bytes(1843), " world");
  EXPECT_EQ(tok.encode("hi", true).front(), 100000);
  EXPECT_NE(tok.encode("hi", false).front(), 100000);
}

TEST(Tokenizer, WithoutConfigBosComesFromThePostProcessor) {
  Tokenizer tok = Tokenizer::from_hf_files(fixture("tokenizer/deepseek-v2/tokenizer.json"));
  EXPECT_EQ(tok.bos_id(), 100000);
  EXPECT_TRUE(tok.add_bos());
  EXPECT_EQ(tok.eos_id(), -1);
  EXPECT_TRUE(tok.chat_template().empty());
}

TEST(Tokenizer, FimTokensInsideTextAreSingleIds) {
  const Tokenizer& tok = v2_tokenizer();
  const std::string text = "<｜fim▁begin｜>def f(x):\n    <｜fim▁hole｜>\n    return y<｜fim▁end｜>";
  auto ids = tok.encode(text, false);
  EXPECT_EQ(ids.front(), 100003);
  EXPECT_EQ(ids.back(), 100004);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 100002), 1);
  EXPECT_EQ(tok.decode(ids), text);
  EXPECT_EQ(tok.find_added_token("<｜fim▁hole｜>"), 100002);
  EXPECT_FALSE(tok.find_added_token("<nope>").has_value());
  // BOS/EOS written as text (as the chat template does) are single ids too.
  auto chat = tok.encode("<｜begin▁of▁sentence｜>User: hi\n\nAssistant:", false);
  EXPECT_EQ(chat.front(), 100000);
  EXPECT_EQ(tok.decode(chat, /*skip_special=*/true), "User: hi\n\nAssistant:");
}

TEST(Tokenizer, DecodeInvertsEncode) {
  const Tokenizer& tok = v2_tokenizer();
  const std::vector<std::string> texts = {
      "", " ", "\n", "\r\n\r\n", "\t\tx", "Hello, world!", "  leading and trailing  ",
      "中文分词测试，包括标点。", "日本語のテキスト", "한국어 텍스트", "Ελληνικά κείμενα", "Привет, мир",
      "emoji 🚀🎉👩‍👩‍👧‍👦 done", "e\u0301 combining a\u0308\u0304", "mixed \u00a0nbsp\u3000ideographic\u2003em",
      "1234567890123456789012345678901234567890", "3.14159e-10", "tab\there\vvt\fff",
      "def f(x):\n\treturn x ** 2  # comment\r\n", "ℝ Ω K ﬁ ｆｕｌｌ", std::string("nul\0byte", 8),
      "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𐐀 \U0010FFFD", "<｜fim▁hole｜> <｜end▁of▁sentence｜>"};
  for (const auto& t : texts) {
    EXPECT_EQ(tok.decode(tok.encode(t, false)), t) << t;
    if (t.find("end▁of▁sentence") == std::string::npos) {
      EXPECT_EQ(tok.decode(tok.encode(t, true), true), t) << t;
    }
  }
}

TEST(Tokenizer, VeryLongInputs) {
  const Tokenizer& tok = v2_tokenizer();
  std::string big;
  while (big.size() < (1 << 20)) big += "for (int i = 0; i < n; ++i) { sum += a[i] * 12345; }  // é 中文 🚀\n";
  auto ids = tok.encode(big, false);
  EXPECT_GT(ids.size(), big.size() / 8);
  EXPECT_EQ(tok.decode(ids), big);
  for (const std::string& rep : {std::string(100000, 'a'), std::string(100000, ' '), std::string(100000, '\n'),
                                 std::string(100000, '7')}) {
    EXPECT_EQ(tok.decode(tok.encode(rep, false)), rep);
  }
  std::string cjk;
  for (int i = 0; i < 30000; ++i) cjk += "中";
  EXPECT_EQ(tok.decode(tok.encode(cjk, false)), cjk);
}

// Invalid UTF-8 is replaced by U+FFFD (per maximal subpart) before encoding, like
// bytes.decode("utf-8", errors="replace") in front of HF.
TEST(Tokenizer, InvalidUtf8IsReplacedNotCrashed) {
  const Tokenizer& tok = v2_tokenizer();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a\xFF" "b", "a\uFFFD" "b"},
      {"\xC3", "\uFFFD"},
      {"\xE2\x82", "\uFFFD"},                          // truncated 3-byte sequence: one U+FFFD
      {"\xED\xA0\x80", "\uFFFD\uFFFD\uFFFD"},          // CESU-8 lone surrogate: each byte
      {"\xC0\xAF", "\uFFFD\uFFFD"},                    // overlong
      {"\xF4\x90\x80\x80", "\uFFFD\uFFFD\uFFFD\uFFFD"},  // above U+10FFFF
      {"\xF0\x9F\x9A", "\uFFFD"},
  };
  for (const auto& [bad, replaced] : cases) {
    EXPECT_EQ(utf8::sanitize(bad), replaced);
    EXPECT_EQ(tok.encode(bad, false), tok.encode(replaced, false));
    EXPECT_EQ(tok.decode(tok.encode(bad, false)), replaced);
  }
  std::string noise;
  for (int i = 0; i < 200000; ++i) noise += static_cast<char>((i * 2654435761u) >> 24);
  EXPECT_TRUE(utf8::is_valid(tok.decode(tok.encode(noise, false))));
}

// The lenient walkers the chat templates use: a sequence counts whole when its lead byte's
// declared length is completed by continuation bytes, otherwise each byte is one code point.
TEST(Tokenizer, LenientUtf8CodePoints) {
  EXPECT_EQ(utf8::length("a\u00e9\u4e2d\U0001F600"), 4u);
  EXPECT_EQ(utf8::starts("a\u00e9\u4e2d"), (std::vector<std::size_t>{0, 1, 3, 6}));
  EXPECT_EQ(utf8::length("\xE2\x82"), 2u);      // truncated: each byte
  EXPECT_EQ(utf8::length("\x80\xFF"), 2u);      // stray continuation, F8-FF
  EXPECT_EQ(utf8::length("\xC0\xAF"), 1u);      // overlong: not validated, one code point
  EXPECT_EQ(utf8::code_point_at("\xC0\xAF", 0), 0x2Fu);
  EXPECT_EQ(utf8::code_point_at("x\xFF", 1), 0xFFu);
  EXPECT_EQ(utf8::code_point_at("\U0001F600", 0), 0x1F600u);
  EXPECT_EQ(utf8::char_size("\xE2\x82\x41", 0), 1u);
}

TEST(Tokenizer, OutOfRangeIdsAreErrors) {
  const Tokenizer& tok = v2_tokenizer();
  EXPECT_THROW(tok.decode(std::vector<std::int32_t>{-1}), Error);
  EXPECT_THROW(tok.decode(std::vector<std::int32_t>{100005}), Error);
  EXPECT_THROW(tok.token_text(1 << 30), Error);
}

TEST(StreamDecoder, HoldsBackIncompleteCharacters) {
  const Tokenizer& tok = v2_tokenizer();
  const std::string text = "ok 🚀🤖 中文 done";
  auto ids = tok.encode(text, false);
  StreamDecoder dec = tok.stream_decoder();
  std::string all;
  for (std::int32_t id : ids) {
    std::string piece = dec.feed(id);
    EXPECT_TRUE(utf8::is_valid(piece)) << id;
    all += piece;
  }
  all += dec.flush();
  EXPECT_EQ(all, text);
}

TEST(StreamDecoder, EmojiSplitIntoByteTokens) {
  const Tokenizer& tok = v2_tokenizer();
  // Feed the 4 bytes of U+1F680 as 4 single-byte tokens.
  std::vector<std::int32_t> bytes;  // the byte tokens, found by their decoded bytes
  for (unsigned char b : std::string("\xF0\x9F\x9A\x80")) {
    for (std::int32_t id = 0; id < static_cast<std::int32_t>(tok.vocab_size()); ++id) {
      if (tok.token_bytes(id) == std::string(1, static_cast<char>(b))) {
        bytes.push_back(id);
        break;
      }
    }
  }
  ASSERT_EQ(bytes.size(), 4u);
  StreamDecoder dec = tok.stream_decoder();
  EXPECT_EQ(dec.feed(bytes[0]), "");
  EXPECT_EQ(dec.feed(bytes[1]), "");
  EXPECT_EQ(dec.feed(bytes[2]), "");
  EXPECT_EQ(dec.feed(bytes[3]), "\xF0\x9F\x9A\x80");
  EXPECT_FALSE(dec.pending());
  // An unfinished character at the end becomes U+FFFD; a byte that can never continue it
  // releases it at once.
  EXPECT_EQ(dec.feed(bytes[0]), "");
  EXPECT_EQ(dec.flush(), "\uFFFD");
  EXPECT_EQ(dec.feed(bytes[0]), "");
  EXPECT_EQ(dec.feed(tok.encode("a", false)[0]), "\uFFFD" "a");
  EXPECT_EQ(tok.decode(std::vector<std::int32_t>{bytes[0], bytes[1]}), "\uFFFD");
}

TEST(StreamDecoder, SkipsSpecialTokensWhenAsked) {
  const Tokenizer& tok = v2_tokenizer();
  StreamDecoder dec = tok.stream_decoder(/*skip_special=*/true);
  EXPECT_EQ(dec.feed(100000), "");
  EXPECT_EQ(dec.feed(tok.encode("x", false)[0]), "x");
  EXPECT_EQ(dec.feed(100002), "<｜fim▁hole｜>");
}

TEST(KnownPreTokenizers, DeepseekLlmEqualsTheV2TokenizerJson) {
  json j = load_json(fixture("tokenizer/deepseek-v2/tokenizer.json"));
  EXPECT_EQ(*known_pre_tokenizer("deepseek-llm"), j["pre_tokenizer"]);
  EXPECT_FALSE(known_pre_tokenizer("no-such-pre").has_value());
}

// A vocab-only GGUF written from the deepseek-llm one with another pre name.
std::string gguf_with_pre(const TempDir& dir, const std::string& pre) {
  GgufFile src(fixture("llama-cpp-vocab/ggml-vocab-deepseek-llm.gguf"));
  const std::string path = dir.file("vocab.gguf");
  GgufWriter w(path);
  std::vector<std::string> tokens, merges;
  for (auto t : src.get_string_array("tokenizer.ggml.tokens")) tokens.emplace_back(t);
  for (auto m : src.get_string_array("tokenizer.ggml.merges")) merges.emplace_back(m);
  std::vector<std::int32_t> types;
  for (auto t : src.get_int_array("tokenizer.ggml.token_type")) types.push_back(static_cast<std::int32_t>(t));
  w.set("tokenizer.ggml.model", GgufWriteValue::string("gpt2"));
  w.set("tokenizer.ggml.pre", GgufWriteValue::string(pre));
  w.set("tokenizer.ggml.tokens", GgufWriteValue::string_array(tokens));
  w.set("tokenizer.ggml.merges", GgufWriteValue::string_array(merges));
  w.set("tokenizer.ggml.token_type", GgufWriteValue::i32_array(types));
  w.set("tokenizer.ggml.bos_token_id", GgufWriteValue::u32(100000));
  w.set("tokenizer.ggml.add_bos_token", GgufWriteValue::boolean(true));
  w.set("tokenizer.chat_template", GgufWriteValue::string("{{ x }}"));
  w.finish();
  return path;
}

TEST(GgufTokenizer, WrittenVocabLoadsAndUnknownPreIsNamed) {
  TempDir dir;
  {
    GgufFile g(gguf_with_pre(dir, "deepseek-llm"));
    Tokenizer tok = Tokenizer::from_gguf(g);
    EXPECT_EQ(tok.chat_template(), "{{ x }}");
    EXPECT_EQ(tok.encode("Hello world"), (std::vector<std::int32_t>{100000, 17464, 1843}));
    EXPECT_EQ(tok.eos_id(), -1);
  }
  GgufFile g(gguf_with_pre(dir, "mystery-pre"));
  try {
    Tokenizer::from_gguf(g);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("mystery-pre"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(g.path()), std::string::npos) << e.what();
  }
}

TEST(OpenTokenizer, AcceptsDirectoryJsonAndGguf) {
  EXPECT_EQ(open_tokenizer(fixture("tokenizer/deepseek-v2")).bos_id(), 100000);
  EXPECT_EQ(open_tokenizer(fixture("tokenizer/deepseek-v2/tokenizer.json")).eos_id(), 100001);
  EXPECT_EQ(open_tokenizer(fixture("llama-cpp-vocab/ggml-vocab-deepseek-coder.gguf")).bos_id(), 32013);
  EXPECT_THROW(open_tokenizer("/nonexistent"), Error);
  EXPECT_THROW(open_tokenizer(fixture("llama-cpp-vocab/SOURCES.md")), Error);
}

}  // namespace
}  // namespace dsv2::test
