// Test helpers: where shared/ fixtures live, temporary directories, running the dsv2 binary.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace dsv2::test {

// ../shared (override with env DSV2_SHARED_DIR). Fails the test with a clear message if missing.
std::string shared_dir();
std::string fixture(const std::string& relative);  // shared_dir() + "/fixtures/" + relative

// A fresh empty directory under the build tree, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct RunResult {
  int exit_code;
  std::string out;
  std::string err;
};
// Runs the dsv2 binary with args (shell-quoted here), capturing stdout and stderr.
RunResult run_dsv2(const std::vector<std::string>& args, const std::string& stdin_text = "");

std::vector<float> read_f32_file(const std::string& path);
void write_file(const std::string& path, const std::string& bytes);
std::string read_file(const std::string& path);

}  // namespace dsv2::test
