// Reader for the safetensors format: an 8-byte little-endian header length, a JSON header naming
// each tensor's dtype, shape and [begin, end) byte range in the data section, then the data.
// Everything is validated against the file size before any tensor is handed out.
#pragma once
#include <map>
#include <memory>
#include <string>

#include "io/mapped_file.h"
#include "tensor/tensor.h"

namespace dsv2 {

class SafetensorsFile {
 public:
  // Throws Error naming the file and tensor.
  explicit SafetensorsFile(const std::string& path, FileMode mode = FileMode::Map);

  const std::string& path() const { return file_->path(); }
  const std::map<std::string, Tensor>& tensors() const { return tensors_; }
  MappedFile& file() { return *file_; }

 private:
  void parse_header();

  std::unique_ptr<MappedFile> file_;
  std::map<std::string, Tensor> tensors_;
};

}  // namespace dsv2
