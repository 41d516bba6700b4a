// The tokenizer.ggml.* metadata of llama.cpp's gpt2 (byte-level BPE) vocabulary, from a Hugging
// Face tokenizer.json + tokenizer_config.json.
#pragma once
#include <cstdint>
#include <string>

namespace dsv2 {
class GgufWriter;
}

namespace dsv2::tools {

// Writes the tokenizer keys; returns false (writing nothing) when hf_dir has no tokenizer.json.
// The token list is padded with "[PADi]" (type unused) up to vocab_size, as llama.cpp does.
bool write_tokenizer_metadata(GgufWriter& w, const std::string& hf_dir, std::int64_t vocab_size);

}  // namespace dsv2::tools
