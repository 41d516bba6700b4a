// Flags every model-running subcommand shares (run, infill, chat, serve, logits, bench): the
// model, threads, how the weights sit in memory and the KV cache's element type.
#pragma once
#include <memory>
#include <string>

#include "command.h"
#include "model/checkpoint.h"
#include "tensor/dtype.h"

namespace dsv2::app {

struct ModelFlags {
  std::string model;
  int threads = 0;
  bool mmap = false;
  std::string cache_type = "f32";
  std::string prompt_attention = "absorbed";

  // required: whether -m is mandatory (bench also accepts --synth).
  void add_to(CLI::App* cmd, bool required = true);
  std::unique_ptr<Checkpoint> open() const;  // loaded into memory unless --mmap
  DType kv_type() const;                     // throws Error naming --cache-type
  bool expand_prompts() const;               // throws Error naming --prompt-attention
};

}  // namespace dsv2::app
