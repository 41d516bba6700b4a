// GGUF reader/writer: a written file reads back exactly; every malformed file is an Error that
// names the file (never a crash: these also run under ASan/UBSan).
#include "io/gguf.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

#include "io/gguf_writer.h"
#include "support/fixtures.h"
#include "util/error.h"

namespace dsv2 {
namespace {

using test::read_file;
using test::TempDir;
using W = GgufWriteValue;

// Expects opening path to throw an Error whose message names the file and contains `what`.
void expect_open_error(const std::string& path, const std::string& what) {
  try {
    GgufFile f(path);
    FAIL() << "opened a malformed file; expected an error mentioning '" << what << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

// A small valid file with every metadata type and three tensors.
std::string write_sample(const TempDir& dir, std::uint32_t alignment = 32) {
  const std::string path = dir.file("sample.gguf");
  GgufWriter w(path, alignment);
  w.set("u8", W::u8(200));
  w.set("i8", W::i8(-100));
  w.set("u16", W::u16(60000));
  w.set("i16", W::i16(-30000));
  w.set("u32", W::u32(4000000000u));
  w.set("i32", W::i32(-2000000000));
  w.set("u64", W::u64(18000000000000000000ull));
  w.set("i64", W::i64(-9000000000000000000ll));
  w.set("f32", W::f32(1.5f));
  w.set("f64", W::f64(-2.25));
  w.set("bool", W::boolean(true));
  w.set("str", W::string(std::string("h\0llo \xE2\x82\xAC", 10)));
  w.set("strs", W::string_array({"a", "", "ccc"}));
  w.set("ints", W::i32_array({1, -2, 3}));
  w.set("nested", W::array(GgufType::ARRAY, {W::i32_array({1, 2}), W::i32_array({})}));
  w.add_tensor("f32.weight", DType::F32, {2, 3});
  w.add_tensor("bf16.weight", DType::BF16, {5});
  w.add_tensor("q41", 3u, {1, 32});  // Q4_1: a ggml type dsv2 cannot compute with
  w.write_header();
  const float f[6] = {1, 2, 3, 4, 5, 6};
  w.write_tensor_data(f, sizeof(f));
  const std::uint16_t b[5] = {0x3f80, 0x4000, 0x4040, 0x4080, 0x40a0};
  w.write_tensor_data(b, sizeof(b));
  std::string q41(20, '\x11');
  w.write_tensor_data(q41.data(), q41.size());
  w.finish();
  return path;
}

TEST(Gguf, WrittenFileRoundTripsEveryMetadataType) {
  TempDir dir;
  GgufFile g(write_sample(dir));
  EXPECT_EQ(g.version(), 3u);
  EXPECT_EQ(g.get_uint("u8"), 200u);
  EXPECT_EQ(g.get_int("i8"), -100);
  EXPECT_EQ(g.get_uint("u16"), 60000u);
  EXPECT_EQ(g.get_int("i16"), -30000);
  EXPECT_EQ(g.get_uint("u32"), 4000000000u);
  EXPECT_EQ(g.get_int("i32"), -2000000000);
  EXPECT_EQ(g.get_uint("u64"), 18000000000000000000ull);
  EXPECT_EQ(g.get_int("i64"), -9000000000000000000ll);
  EXPECT_EQ(g.get_float("f32"), 1.5);
  EXPECT_EQ(g.get_float("f64"), -2.25);
  EXPECT_TRUE(g.get_bool("bool"));
  EXPECT_EQ(g.get_string("str"), std::string_view("h\0llo \xE2\x82\xAC", 10));
  EXPECT_EQ(g.get_string_array("strs"), (std::vector<std::string_view>{"a", "", "ccc"}));
  EXPECT_EQ(g.get_int_array("ints"), (std::vector<std::int64_t>{1, -2, 3}));
  const GgufValue& nested = g.get_array("nested", GgufType::ARRAY);
  ASSERT_EQ(nested.items.size(), 2u);
  EXPECT_EQ(nested.items[0].items.size(), 2u);
  EXPECT_EQ(nested.items[0].items[1].i, 2);
  EXPECT_TRUE(nested.items[1].items.empty());
  EXPECT_EQ(g.keys().front(), "u8");
  EXPECT_EQ(g.get_int("missing", 7), 7);
  EXPECT_EQ(g.get_string("missing", "x"), "x");
}

// The writer writes PATH.part and renames it over PATH only when finished: a file already at
// PATH survives a writer that stops half-way (here: destroyed after its header), and no .part
// file is left either way.
TEST(Gguf, WriterReplacesThePathOnlyWhenFinished) {
  TempDir dir;
  const std::string path = dir.file("x.gguf");
  std::ofstream(path) << "the user's file";
  {
    GgufWriter w(path);
    w.add_tensor("a", DType::F32, {4});
    w.write_header();
    EXPECT_TRUE(std::filesystem::exists(path + ".part"));
    EXPECT_EQ(read_file(path), "the user's file");
  }
  EXPECT_EQ(read_file(path), "the user's file");
  EXPECT_FALSE(std::filesystem::exists(path + ".part"));
  GgufWriter w(path);
  w.add_tensor("a", DType::F32, {4});
  const float v[4] = {1, 2, 3, 4};
  w.write_header();
  w.write_tensor_data(v, sizeof(v));
  w.finish();
  EXPECT_FALSE(std::filesystem::exists(path + ".part"));
  EXPECT_EQ(GgufFile(path).tensors().size(), 1u);
  // a path that could never be replaced is refused when the header is written, not at the end
  GgufWriter d(dir.path());
  d.add_tensor("a", DType::F32, {4});
  try {
    d.write_header();
    ADD_FAILURE() << "wrote a header for a directory";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("is a directory"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir.path() + ".part"));
}

TEST(Gguf, TensorsAreViewsWithReversedDims) {
  TempDir dir;
  GgufFile g(write_sample(dir));
  ASSERT_EQ(g.tensors().size(), 3u);
  EXPECT_EQ(g.tensors()[0].dims, (std::vector<std::uint64_t>{3, 2}));
  Tensor t = g.tensor("f32.weight");
  EXPECT_EQ(t.dtype, DType::F32);
  EXPECT_EQ(t.shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(static_cast<const float*>(t.data)[4], 5.0f);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.data) % 32, g.data_offset() % 32);
  Tensor b = g.tensor("bf16.weight");
  EXPECT_EQ(b.dtype, DType::BF16);
  EXPECT_EQ(bf16_to_f32(static_cast<const std::uint16_t*>(b.data)[2]), 3.0f);
  EXPECT_EQ(g.tensors()[1].offset % 32, 0u);
}

TEST(Gguf, UnsupportedTypeIsListedButErrorsOnUse) {
  TempDir dir;
  const std::string path = write_sample(dir);
  GgufFile g(path);
  const GgufTensorInfo* info = g.find_tensor("q41");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->ggml_type, 3u);
  EXPECT_EQ(info->nbytes, 20u);
  try {
    g.tensor("q41");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("Q4_1"), std::string::npos) << e.what();
  }
  EXPECT_THROW(g.tensor("nope"), Error);
}

TEST(Gguf, CustomAlignmentIsHonoured) {
  TempDir dir;
  GgufFile g(write_sample(dir, 64));
  EXPECT_EQ(g.alignment(), 64u);
  EXPECT_EQ(g.data_offset() % 64, 0u);
  for (const auto& t : g.tensors()) EXPECT_EQ(t.offset % 64, 0u);
  EXPECT_EQ(static_cast<const float*>(g.tensor("f32.weight").data)[0], 1.0f);
}

TEST(Gguf, TypedGettersNameTheKeyOnMismatch) {
  TempDir dir;
  const std::string path = write_sample(dir);
  GgufFile g(path);
  for (auto fn : std::vector<std::function<void()>>{
           [&] { g.get_string("u8"); }, [&] { g.get_bool("str"); }, [&] { g.get_float("i32"); },
           [&] { g.get_uint("i8"); }, [&] { g.get_string_array("ints"); }, [&] { g.get_int("u64"); }}) {
    try {
      fn();
      FAIL();
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(path + ": metadata '"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(g.get_int("absent"), Error);
}

// ---- malformed files -------------------------------------------------------------------------

std::string read_bytes(const std::string& path) { return test::read_file(path); }

template <class T>
void patch(std::string& bytes, std::size_t at, T value) {
  ASSERT_LE(at + sizeof(T), bytes.size());
  std::memcpy(bytes.data() + at, &value, sizeof(T));
}

// A hand-built header: magic, version, counts; then the caller's bytes.
struct Bytes {
  std::string s;
  template <class T>
  Bytes& put(T v) {
    s.append(reinterpret_cast<const char*>(&v), sizeof(T));
    return *this;
  }
  Bytes& str(const std::string& v) {
    put<std::uint64_t>(v.size());
    s += v;
    return *this;
  }
  static Bytes header(std::uint64_t n_tensors, std::uint64_t n_kv) {
    Bytes b;
    b.s = "GGUF";
    b.put<std::uint32_t>(3).put(n_tensors).put(n_kv);
    return b;
  }
};

TEST(GgufMalformed, BadMagicAndVersion) {
  TempDir dir;
  std::string good = read_bytes(write_sample(dir));
  std::string bad = good;
  bad[0] = 'X';
  test::write_file(dir.file("magic.gguf"), bad);
  expect_open_error(dir.file("magic.gguf"), "magic");
  for (std::uint32_t v : {1u, 4u, 0x03000000u}) {
    bad = good;
    patch<std::uint32_t>(bad, 4, v);
    test::write_file(dir.file("version.gguf"), bad);
    expect_open_error(dir.file("version.gguf"), v == 0x03000000u ? "big-endian" : "version");
  }
}

TEST(GgufMalformed, TruncatedAtEveryByte) {
  TempDir dir;
  const std::string sample = write_sample(dir);
  std::string good = read_bytes(sample);
  // Past the last tensor's data only padding remains: cutting it leaves a valid file.
  std::size_t end = 0;
  {
    GgufFile g(sample);
    for (const auto& t : g.tensors()) end = std::max<std::size_t>(end, g.data_offset() + t.offset + t.nbytes);
  }
  ASSERT_LE(end, good.size());
  const std::string path = dir.file("cut.gguf");
  for (std::size_t n = 0; n < end; ++n) {
    test::write_file(path, good.substr(0, n));
    try {
      GgufFile g(path);
      ADD_FAILURE() << "a file cut at byte " << n << " of " << good.size() << " opened";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  }
}

TEST(GgufMalformed, HugeCountsAndLengths) {
  TempDir dir;
  const std::string path = dir.file("bad.gguf");
  test::write_file(path, Bytes::header(0, 1ull << 60).s);
  expect_open_error(path, "kv_count");
  test::write_file(path, Bytes::header(1ull << 60, 0).s);
  expect_open_error(path, "tensor_count");
  test::write_file(path, Bytes::header(0, 1).put<std::uint64_t>(1ull << 62).s + std::string(64, 'k'));
  expect_open_error(path, "past the end");
  test::write_file(path, Bytes::header(0, 1).str("k").put<std::uint32_t>(8).put<std::uint64_t>(~0ull).s + "abc");
  expect_open_error(path, "past the end");
  test::write_file(path, Bytes::header(0, 1).str("k").put<std::uint32_t>(9).put<std::uint32_t>(0).put<std::uint64_t>(1ull << 40).s);
  expect_open_error(path, "array count");
  test::write_file(path, Bytes::header(0, 1).str("k").put<std::uint32_t>(13).put<std::uint32_t>(0).s);
  expect_open_error(path, "unknown value type");
  test::write_file(path, Bytes::header(0, 1).str("k").put<std::uint32_t>(7).put<std::uint8_t>(2).s);
  expect_open_error(path, "bool");
}

TEST(GgufMalformed, DeeplyNestedArraysAreRefused) {
  TempDir dir;
  const std::string path = dir.file("deep.gguf");
  Bytes b = Bytes::header(0, 1).str("k").put<std::uint32_t>(9);
  for (int d = 0; d < 100; ++d) b.put<std::uint32_t>(9).put<std::uint64_t>(1);
  test::write_file(path, b.s);
  expect_open_error(path, "nested");
}

// One tensor info (F32 [n]) with the given offset, then data padded to `data_bytes`.
std::string one_tensor_file(std::uint64_t n, std::uint32_t type, std::uint64_t offset, std::size_t data_bytes) {
  Bytes b = Bytes::header(1, 0).str("t").put<std::uint32_t>(1).put<std::uint64_t>(n).put(type).put(offset);
  b.s.resize((b.s.size() + 31) / 32 * 32, '\0');
  b.s.append(data_bytes, '\0');
  return b.s;
}

TEST(GgufMalformed, TensorOffsetsSizesAndTypes) {
  TempDir dir;
  const std::string path = dir.file("t.gguf");
  test::write_file(path, one_tensor_file(8, 0, 0, 32));
  EXPECT_NO_THROW(GgufFile g(path));
  test::write_file(path, one_tensor_file(8, 0, 32, 32));
  expect_open_error(path, "past the end");
  test::write_file(path, one_tensor_file(8, 0, 16, 64));
  expect_open_error(path, "alignment");
  test::write_file(path, one_tensor_file(8, 0, 1ull << 63, 32));
  expect_open_error(path, "past the end");
  test::write_file(path, one_tensor_file(8, 4, 0, 32));  // id 4 was removed from ggml
  expect_open_error(path, "unknown ggml type");
  test::write_file(path, one_tensor_file(8, 12, 0, 256));  // Q4_K needs multiples of 256
  expect_open_error(path, "block size");
  // dims whose product overflows
  Bytes b = Bytes::header(1, 0).str("t").put<std::uint32_t>(2).put<std::uint64_t>(1ull << 40).put<std::uint64_t>(1ull << 40);
  b.put<std::uint32_t>(0).put<std::uint64_t>(0);
  test::write_file(path, b.s);
  expect_open_error(path, "overflow");
  Bytes five = Bytes::header(1, 0).str("t").put<std::uint32_t>(5);
  test::write_file(path, five.s + std::string(64, '\1'));
  expect_open_error(path, "n_dims");
}

TEST(GgufMalformed, OverlappingAndDuplicateTensors) {
  TempDir dir;
  const std::string path = dir.file("o.gguf");
  auto two = [](std::uint64_t off2, const std::string& name2) {
    Bytes b = Bytes::header(2, 0);
    b.str("a").put<std::uint32_t>(1).put<std::uint64_t>(16).put<std::uint32_t>(0).put<std::uint64_t>(0);
    b.str(name2).put<std::uint32_t>(1).put<std::uint64_t>(16).put<std::uint32_t>(0).put(off2);
    b.s.resize((b.s.size() + 31) / 32 * 32, '\0');
    b.s.append(128, '\0');
    return b.s;
  };
  test::write_file(path, two(64, "b"));
  EXPECT_NO_THROW(GgufFile g(path));
  test::write_file(path, two(32, "b"));
  expect_open_error(path, "overlap");
  test::write_file(path, two(64, "a"));
  expect_open_error(path, "duplicate tensor");
}

TEST(GgufMalformed, BadAlignmentAndDuplicateKeys) {
  TempDir dir;
  const std::string path = dir.file("a.gguf");
  test::write_file(path, Bytes::header(0, 1).str("general.alignment").put<std::uint32_t>(4).put<std::uint32_t>(24).s);
  expect_open_error(path, "power of two");
  test::write_file(path, Bytes::header(0, 1).str("general.alignment").put<std::uint32_t>(10).put<std::uint64_t>(32).s);
  expect_open_error(path, "uint32");
  test::write_file(path, Bytes::header(0, 2).str("k").put<std::uint32_t>(0).put<std::uint8_t>(1).str("k").put<std::uint32_t>(0).put<std::uint8_t>(1).s);
  expect_open_error(path, "duplicate key");
}

TEST(Gguf, ReadsLlamaCppVocabFile) {
  GgufFile g(test::fixture("llama-cpp-vocab/ggml-vocab-deepseek-llm.gguf"));
  EXPECT_EQ(g.get_string("tokenizer.ggml.pre"), "deepseek-llm");
  EXPECT_EQ(g.get_string_array("tokenizer.ggml.tokens").size(), 102400u);
  EXPECT_EQ(g.get_uint("tokenizer.ggml.bos_token_id"), 100000u);
  EXPECT_TRUE(g.tensors().empty());
}

TEST(Gguf, MissingFileIsAnError) { EXPECT_THROW(GgufFile("/nonexistent/x.gguf"), Error); }

}  // namespace
}  // namespace dsv2
