// `dsv2 synth`: checkpoints with random weights and the real DeepSeek-V2 architectures, for
// tests, benchmarks and memory planning without downloading tens of gigabytes.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/config.h"
#include "tensor/dtype.h"
#include "tools/checkpoint_sink.h"

namespace dsv2::tools {

// "tiny": Lite architecture, small dims, full 102400 vocabulary (so the real tokenizer works).
// "lite": exactly DeepSeek-V2-Lite / Coder-V2-Lite (15.7B parameters, 31 GB in bf16).
// "v2":   the 236B architecture (query LoRA, group-limited routing, scaling 16) at small dims.
const std::vector<std::string>& synth_preset_names();
Config synth_preset(const std::string& name);  // throws Error listing the presets

struct GenerateOptions {
  DType dtype = DType::BF16;  // F32, F16 or BF16
  std::uint64_t seed = 0;
  int threads = 0;        // 0: all hardware threads; the output does not depend on it
  bool progress = false;  // tensor i/N and GB written, to stderr
  // Values generated per step (two steps' worth of memory are in use). 32 MB of f32 amortises
  // the hand-off to the writer thread; tests shrink it to cross window boundaries cheaply.
  std::uint64_t window = 1 << 23;
};

// Streams random weights for every tensor of expected_tensors(config) into sink: begin, the
// tensors in order in bounded windows (generation overlaps writing), finish. Memory use is a
// few tens of MB whatever the model size.
void write_random_checkpoint(const Config& config, const GenerateOptions& options,
                             CheckpointSink& sink);

struct SynthOptions {
  std::string preset = "tiny";
  std::string out_dir;  // a directory, or a file ending in .gguf
  FileType gguf_type = DType::F16;  // GGUF output: the matrices' type or mix (norms and router stay F32)
  GenerateOptions generate;
  std::uint64_t max_shard_bytes = 5'000'000'000;  // Hugging Face's default "5GB"
  bool force = false;  // write into a non-empty out_dir (replacing earlier synth output)
};

// A complete Hugging Face model directory: config.json, safetensors shards (+ index), and the
// DeepSeek-V2 tokenizer files copied from the shared fixtures when they can be found (a warning
// on stderr otherwise). Progress is shown for checkpoints of 1 GB and more.
void synth(const SynthOptions& options);

// The shared/ folder: env DSV2_SHARED_DIR, else the path configured at build time.
std::string shared_dir();

}  // namespace dsv2::tools
