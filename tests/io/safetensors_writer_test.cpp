#include "io/safetensors_writer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>

#include "support/fixtures.h"
#include "util/error.h"

namespace dsv2 {
namespace {

using nlohmann::json;

struct Parsed {
  std::uint64_t header_len = 0;
  json header;
  std::string data;  // everything after the header
};

// An independent reader of the format, straight from the spec.
Parsed parse(const std::string& path) {
  std::string bytes = test::read_file(path);
  Parsed p;
  EXPECT_GE(bytes.size(), 8u);
  for (int b = 7; b >= 0; --b)
    p.header_len = (p.header_len << 8) | static_cast<unsigned char>(bytes[b]);
  p.header = json::parse(bytes.substr(8, p.header_len));
  p.data = bytes.substr(8 + p.header_len);
  return p;
}

std::span<const std::uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string pattern(std::size_t n, char seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(seed + 7 * i);
  return s;
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

const std::vector<SafetensorsEntry> kTensors = {{"a.weight", DType::F32, {2, 3}},
                                                {"b.weight", DType::BF16, {5}},
                                                {"c.weight", DType::F16, {2, 2}}};

TEST(SafetensorsWriter, RoundTripsHeaderAndChunkedData) {
  test::TempDir tmp;
  const std::string a = pattern(24, 1), b = pattern(10, 2), c = pattern(8, 3);
  SafetensorsWriter w(tmp.file("m.safetensors"), kTensors);
  EXPECT_EQ(w.data_bytes(), 42u);
  w.append(0, as_bytes(a.substr(0, 5)));  // tensors may arrive in uneven chunks
  w.append(0, as_bytes(a.substr(5)));
  w.append(1, as_bytes(b));
  w.append(2, as_bytes(c.substr(0, 4)));
  w.append(2, as_bytes(c.substr(4)));
  w.finish();

  Parsed p = parse(tmp.file("m.safetensors"));
  EXPECT_EQ(p.header_len % 8, 0u);
  EXPECT_EQ(p.header["__metadata__"], json({{"format", "pt"}}));
  EXPECT_EQ(p.header["a.weight"],
            json({{"dtype", "F32"}, {"shape", {2, 3}}, {"data_offsets", {0, 24}}}));
  EXPECT_EQ(p.header["b.weight"],
            json({{"dtype", "BF16"}, {"shape", {5}}, {"data_offsets", {24, 34}}}));
  EXPECT_EQ(p.header["c.weight"],
            json({{"dtype", "F16"}, {"shape", {2, 2}}, {"data_offsets", {34, 42}}}));
  EXPECT_EQ(p.data, a + b + c);
}

TEST(SafetensorsWriter, ZeroSizedTensorsAndNoMetadata) {
  test::TempDir tmp;
  std::vector<SafetensorsEntry> t = {{"empty", DType::F32, {0, 4}}, {"x", DType::F32, {1}}};
  SafetensorsWriter w(tmp.file("m.safetensors"), t, /*pt_metadata=*/false);
  const std::string x = pattern(4, 9);
  w.append(1, as_bytes(x));  // skipping an empty tensor is not out of order
  w.finish();
  Parsed p = parse(tmp.file("m.safetensors"));
  EXPECT_FALSE(p.header.contains("__metadata__"));
  EXPECT_EQ(p.header["empty"]["data_offsets"], json({0, 0}));
  EXPECT_EQ(p.header["x"]["data_offsets"], json({0, 4}));
  EXPECT_EQ(p.data, x);
}

TEST(SafetensorsWriter, MisuseThrowsNamingTheFile) {
  test::TempDir tmp;
  const std::string path = tmp.file("m.safetensors");
  const std::string four = pattern(4, 0), big = pattern(25, 0);
  auto fresh = [&] { return std::make_unique<SafetensorsWriter>(path, kTensors); };

  auto w = fresh();
  EXPECT_NE(error_of([&] { w->append(1, as_bytes(four)); }).find("out of order"),
            std::string::npos);
  EXPECT_NE(error_of([&] { w->append(0, as_bytes(big)); }).find("holds 24"), std::string::npos);
  EXPECT_NE(error_of([&] { w->append(3, as_bytes(four)); }).find(path), std::string::npos);
  w->append(0, as_bytes(four));
  EXPECT_NE(error_of([&] { w->finish(); }).find("'a.weight' incomplete (4 of 24"),
            std::string::npos);

  w = fresh();
  w->append(0, as_bytes(pattern(24, 0)));
  w->append(1, as_bytes(pattern(10, 0)));
  EXPECT_NE(error_of([&] { w->append(0, as_bytes(four)); }).find("out of order"),
            std::string::npos);
  w->append(2, as_bytes(pattern(8, 0)));
  w->finish();
  EXPECT_NE(error_of([&] { w->append(2, {}); }).find("after finish"), std::string::npos);
  EXPECT_NE(error_of([&] { w->finish(); }).find("twice"), std::string::npos);
}

TEST(SafetensorsWriter, BadDeclarationsAndIoErrors) {
  test::TempDir tmp;
  std::vector<SafetensorsEntry> dup = {{"x", DType::F32, {1}}, {"x", DType::F32, {1}}};
  EXPECT_NE(error_of([&] { SafetensorsWriter(tmp.file("d"), dup); }).find("declared twice"),
            std::string::npos);
  std::vector<SafetensorsEntry> q = {{"x", DType::Q4_K, {256}}};
  EXPECT_NE(error_of([&] { SafetensorsWriter(tmp.file("q"), q); }).find("q4_k"), std::string::npos);
  std::vector<SafetensorsEntry> neg = {{"x", DType::F32, {-1}}};
  EXPECT_NE(error_of([&] { SafetensorsWriter(tmp.file("n"), neg); }).find("negative"),
            std::string::npos);
  const std::string missing = tmp.file("no/such/dir/m.safetensors");
  EXPECT_NE(
      error_of([&] { SafetensorsWriter(missing, kTensors); }).find(missing + ": cannot create"),
      std::string::npos);
}

// Four 400-byte tensors and one of 1200 in shards of at most 1000 bytes: [a b] [c d] [big].
std::vector<SafetensorsEntry> shard_tensors() {
  return {{"a", DType::F32, {100}},
          {"b", DType::F32, {100}},
          {"c", DType::BF16, {200}},
          {"d", DType::F32, {10, 10}},
          {"big", DType::F32, {300}}};
}

TEST(ShardedSafetensorsWriter, PacksShardsAndWritesTheIndex) {
  test::TempDir tmp;
  auto tensors = shard_tensors();
  ShardedSafetensorsWriter w(tmp.path(), tensors, 1000);
  std::vector<std::string> data;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    data.push_back(pattern(safetensors_nbytes(tensors[i]), static_cast<char>(i)));
    w.append(i, as_bytes(data[i]));
  }
  w.finish();
  const std::vector<std::string> names = {"model-00001-of-00003.safetensors",
                                          "model-00002-of-00003.safetensors",
                                          "model-00003-of-00003.safetensors"};
  EXPECT_EQ(w.files(), names);

  json index = json::parse(test::read_file(tmp.file("model.safetensors.index.json")));
  EXPECT_EQ(index["metadata"]["total_size"], 2800);
  EXPECT_EQ(
      index["weight_map"],
      json(
          {{"a", names[0]}, {"b", names[0]}, {"c", names[1]}, {"d", names[1]}, {"big", names[2]}}));
  Parsed s1 = parse(tmp.file(names[1]));
  EXPECT_EQ(s1.header["c"]["data_offsets"], json({0, 400}));
  EXPECT_EQ(s1.header["d"]["shape"], json({10, 10}));
  EXPECT_EQ(s1.data, data[2] + data[3]);
  EXPECT_EQ(parse(tmp.file(names[2])).data, data[4]);
}

TEST(ShardedSafetensorsWriter, OneShardIsAPlainModelFile) {
  test::TempDir tmp;
  std::vector<SafetensorsEntry> t = {{"a", DType::F32, {2}}};
  ShardedSafetensorsWriter w(tmp.path(), t, 1'000'000);
  w.append(0, as_bytes(pattern(8, 0)));
  w.finish();
  EXPECT_TRUE(std::filesystem::exists(tmp.file("model.safetensors")));
  EXPECT_FALSE(std::filesystem::exists(tmp.file("model.safetensors.index.json")));
}

TEST(ShardedSafetensorsWriter, MisuseAcrossShardsThrows) {
  test::TempDir tmp;
  auto tensors = shard_tensors();
  ShardedSafetensorsWriter w(tmp.path(), tensors, 1000);
  w.append(0, as_bytes(pattern(400, 0)));
  // Jumping to shard 2 with tensor b missing: the first shard reports itself incomplete.
  std::string err = error_of([&] { w.append(2, as_bytes(pattern(400, 0))); });
  EXPECT_NE(err.find("model-00001-of-00003.safetensors"), std::string::npos) << err;
  EXPECT_NE(err.find("'b' incomplete"), std::string::npos) << err;
  EXPECT_NE(error_of([&] { ShardedSafetensorsWriter(tmp.path(), tensors, 0); }).find("shard size"),
            std::string::npos);
}

}  // namespace
}  // namespace dsv2
