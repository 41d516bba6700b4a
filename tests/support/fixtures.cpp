#include "support/fixtures.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace dsv2::test {

std::string shared_dir() {
  const char* env = std::getenv("DSV2_SHARED_DIR");
  std::string dir = env && *env ? env : DSV2_SHARED_DIR;
  if (!fs::exists(dir + "/fixtures")) {
    ADD_FAILURE() << "shared fixtures not found at '" << dir
                  << "': set DSV2_SHARED_DIR or -DDSV2_SHARED_DIR to the shared/ folder";
  }
  return dir;
}

std::string fixture(const std::string& relative) { return shared_dir() + "/fixtures/" + relative; }

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  path_ = std::string(DSV2_BUILD_DIR) + "/tmp/t" + std::to_string(::getpid()) + "_" +
          std::to_string(counter++);
  fs::remove_all(path_);
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

static std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') q += "'\\''";
    else q += c;
  }
  return q + "'";
}

RunResult run_dsv2(const std::vector<std::string>& args, const std::string& stdin_text) {
  TempDir tmp;
  std::string cmd = quote(DSV2_BINARY);
  for (const auto& a : args) cmd += " " + quote(a);
  write_file(tmp.file("in"), stdin_text);
  cmd += " <" + quote(tmp.file("in")) + " >" + quote(tmp.file("out")) + " 2>" + quote(tmp.file("err"));
  int status = std::system(cmd.c_str());
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_file(tmp.file("out"));
  r.err = read_file(tmp.file("err"));
  return r;
}

std::vector<float> read_f32_file(const std::string& path) {
  std::string bytes = read_file(path);
  std::vector<float> v(bytes.size() / 4);
  std::memcpy(v.data(), bytes.data(), v.size() * 4);
  return v;
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace dsv2::test
