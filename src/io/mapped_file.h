// A whole file's bytes, read-only: memory-mapped (Map), or read once into anonymous memory that
// asks for transparent huge pages (Load). Weights are used in place from either, never copied
// again. Load exists for speed: decoding streams ~1.4 GB of weights per token, and with 4 KiB
// page-cache pages every 4 KiB costs a TLB miss (a two-level page walk under virtualisation);
// measured on a 2-core VM, Lite Q4_0 decode went from 1.8 to 9.3 tokens/s.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace dsv2 {

enum class FileMode { Map, Load };

class MappedFile {
 public:
  // Throws Error naming the path.
  explicit MappedFile(const std::string& path, FileMode mode = FileMode::Map);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  const std::string& path() const { return path_; }
  FileMode mode() const { return mode_; }
  // Load mode only: lifts or restores the read-only protection of the loaded bytes, for callers
  // that rewrite them in place (the model's interleaved weight layout). Throws for Map.
  void set_writable(bool writable);

 private:
  std::string path_;
  FileMode mode_;
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t mapped_bytes_ = 0;  // length of the mapping (Load: rounded up to whole pages)
};

// Reads a whole (small) file into a string; throws Error naming the path.
std::string read_text_file(const std::string& path);

}  // namespace dsv2
