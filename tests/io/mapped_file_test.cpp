#include "io/mapped_file.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>

#include "support/fixtures.h"
#include "util/error.h"

namespace dsv2 {
namespace {

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// Load reads the file with one thread per core, each a slice of whole 2 MiB pages: sizes below,
// at and across slice boundaries must all come back byte for byte, in both modes.
TEST(MappedFile, BothModesReturnTheFileByteForByte) {
  test::TempDir dir;
  constexpr std::size_t kMiB = std::size_t{1} << 20;
  for (std::size_t size : {std::size_t{1}, std::size_t{4095}, 2 * kMiB, 2 * kMiB + 1, 9 * kMiB + 12345}) {
    const std::string bytes = random_bytes(size, static_cast<unsigned>(size));
    const std::string path = dir.file(std::to_string(size) + ".bin");
    test::write_file(path, bytes);
    for (FileMode mode : {FileMode::Map, FileMode::Load}) {
      MappedFile f(path, mode);
      ASSERT_EQ(f.size(), size);
      EXPECT_EQ(std::memcmp(f.data(), bytes.data(), size), 0) << "size " << size << (mode == FileMode::Load ? " load" : " map");
    }
  }
}

TEST(MappedFile, EmptyAndMissingFiles) {
  test::TempDir dir;
  test::write_file(dir.file("empty"), "");
  EXPECT_EQ(MappedFile(dir.file("empty"), FileMode::Load).size(), 0u);
  try {
    MappedFile f(dir.file("absent"), FileMode::Load);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("absent: cannot open"), std::string::npos) << e.what();
  }
}

TEST(MappedFile, LoadedBytesCanBeMadeWritableMappedOnesCannot) {
  test::TempDir dir;
  test::write_file(dir.file("f"), random_bytes(5000, 1));
  MappedFile loaded(dir.file("f"), FileMode::Load);
  loaded.set_writable(true);
  const_cast<std::uint8_t*>(loaded.data())[4999] = 7;
  loaded.set_writable(false);
  EXPECT_EQ(loaded.data()[4999], 7);
  MappedFile mapped(dir.file("f"), FileMode::Map);
  EXPECT_THROW(mapped.set_writable(true), Error);
}

}  // namespace
}  // namespace dsv2
