#include <cstring>
#include <filesystem>
#include <fstream>

#include "io/gguf.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace dsv2 {

namespace {
bool starts_with_gguf_magic(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::memcmp(magic, "GGUF", 4) == 0;
}
}  // namespace

Tokenizer open_tokenizer(const std::string& model_path) {
  namespace fs = std::filesystem;
  if (fs::is_directory(model_path)) return Tokenizer::from_hf_dir(model_path);
  if (!fs::is_regular_file(model_path)) throw Error(model_path + ": no such model file or directory");
  if (starts_with_gguf_magic(model_path)) return Tokenizer::from_gguf(GgufFile(model_path));
  if (fs::path(model_path).extension() == ".json") {
    fs::path cfg = fs::path(model_path).parent_path() / "tokenizer_config.json";
    return Tokenizer::from_hf_files(model_path, fs::is_regular_file(cfg) ? cfg.string() : "");
  }
  throw Error(model_path + ": not a GGUF file, a tokenizer.json or a model directory");
}

}  // namespace dsv2
