// Malformed safetensors files: each gives one Error naming the file and what is wrong.
#include "io/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>

#include "support/fixtures.h"
#include "util/error.h"

namespace dsv2 {
namespace {

// Header length (8 bytes LE) + header + data.
std::string make_file(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + data;
}

std::string error_of(const std::string& path) {
  try {
    SafetensorsFile f(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

class BadSafetensors : public ::testing::Test {
 protected:
  // Writes bytes to a file and returns its Error message ("" if it loaded).
  std::string load(const std::string& bytes) {
    write_file(path_, bytes);
    return error_of(path_);
  }
  test::TempDir dir_;
  std::string path_ = dir_.file("m.safetensors");
  static void write_file(const std::string& p, const std::string& b) { test::write_file(p, b); }
};

TEST_F(BadSafetensors, AValidFileLoadsWithViewsIntoTheMap) {
  float vals[3] = {1.0f, 2.0f, 3.0f};
  std::string data(reinterpret_cast<const char*>(vals), 12);
  ASSERT_EQ(load(make_file(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},"__metadata__":{"format":"pt"}})", data)), "");
  SafetensorsFile f(path_);
  const Tensor& t = f.tensors().at("a");
  EXPECT_EQ(t.shape, std::vector<std::int64_t>{3});
  float third;  // the data section need not be float-aligned here (header not padded)
  std::memcpy(&third, static_cast<const std::uint8_t*>(t.data) + 8, 4);
  EXPECT_EQ(third, 3.0f);
}

TEST_F(BadSafetensors, TooShortForAHeaderLength) {
  EXPECT_NE(load("abc").find("truncated"), std::string::npos);
}

TEST_F(BadSafetensors, HeaderLengthPastTheEnd) {
  std::string f = make_file("{}", "");
  f[0] = 100;
  std::string e = load(f);
  EXPECT_NE(e.find("bad safetensors header length 100"), std::string::npos) << e;
  EXPECT_NE(e.find(path_), std::string::npos) << e;
}

TEST_F(BadSafetensors, HugeHeaderLength) {
  std::string f = make_file("{}", "");
  f[7] = '\x7f';
  EXPECT_NE(load(f).find("bad safetensors header length"), std::string::npos);
}

TEST_F(BadSafetensors, HeaderIsNotJson) {
  EXPECT_NE(load(make_file("{not json", "")).find("not a JSON object"), std::string::npos);
  EXPECT_NE(load(make_file("[1,2]", "")).find("not a JSON object"), std::string::npos);
}

TEST_F(BadSafetensors, OffsetsPastTheEnd) {
  std::string e = load(make_file(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", std::string(8, '\0')));
  EXPECT_NE(e.find("tensor 'w'"), std::string::npos) << e;
  EXPECT_NE(e.find("outside the data section"), std::string::npos) << e;
}

TEST_F(BadSafetensors, OffsetsReversedOrNegative) {
  EXPECT_NE(load(make_file(R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})", std::string(8, '\0')))
                .find("outside the data section"), std::string::npos);
  EXPECT_NE(load(make_file(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}})", std::string(8, '\0')))
                .find("data_offsets"), std::string::npos);
}

TEST_F(BadSafetensors, OverlappingTensors) {
  std::string e = load(make_file(
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
      std::string(12, '\0')));
  EXPECT_NE(e.find("'a' and 'b' overlap"), std::string::npos) << e;
}

TEST_F(BadSafetensors, UnknownDtype) {
  std::string e = load(make_file(R"({"w":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}})", std::string(4, '\0')));
  EXPECT_NE(e.find("unsupported dtype 'F8_E4M3'"), std::string::npos) << e;
}

TEST_F(BadSafetensors, ShapeDisagreesWithByteRange) {
  std::string e = load(make_file(R"({"w":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,8]}})", std::string(8, '\0')));
  EXPECT_NE(e.find("needs 12 bytes, offsets give 8"), std::string::npos) << e;
}

TEST_F(BadSafetensors, ShapeOverflowIsCaught) {
  std::string e = load(make_file(
      R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}})", std::string(8, '\0')));
  EXPECT_NE(e.find("tensor 'w'"), std::string::npos) << e;
}

TEST_F(BadSafetensors, MissingFieldsAndWrongTypes) {
  EXPECT_NE(load(make_file(R"({"w":{"shape":[1],"data_offsets":[0,4]}})", std::string(4, '\0'))).find("'dtype'"), std::string::npos);
  EXPECT_NE(load(make_file(R"({"w":{"dtype":"F32","data_offsets":[0,4]}})", std::string(4, '\0'))).find("'shape'"), std::string::npos);
  EXPECT_NE(load(make_file(R"({"w":{"dtype":"F32","shape":[1]}})", std::string(4, '\0'))).find("data_offsets"), std::string::npos);
  EXPECT_NE(load(make_file(R"({"w":{"dtype":"F32","shape":["1"],"data_offsets":[0,4]}})", std::string(4, '\0'))).find("bad shape"), std::string::npos);
  EXPECT_NE(load(make_file(R"({"w":5})", "")).find("not an object"), std::string::npos);
}

TEST_F(BadSafetensors, EveryTruncationOfAValidFileFailsCleanly) {
  float vals[4] = {1, 2, 3, 4};
  std::string good = make_file(R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})",
                               std::string(reinterpret_cast<const char*>(vals), 16));
  for (std::size_t n = 0; n < good.size(); ++n) {
    EXPECT_NE(load(good.substr(0, n)), "") << "truncated to " << n << " bytes";
  }
  EXPECT_EQ(load(good), "");
}

}  // namespace
}  // namespace dsv2
