// Flags shared by the generating subcommands (run, infill, chat): model, threads, context and
// sampling. Values the user does not give come from the model's generation_config.json.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "command.h"
#include "model_flags.h"
#include "generate/engine.h"
#include "generate/generation_config.h"
#include "model/deepseek_v2.h"
#include "tokenizer/tokenizer.h"

namespace dsv2::app {

struct GenerationFlags : ModelFlags {
  std::int64_t ctx = 4096;
  std::int64_t max_tokens = -1;
  std::optional<float> temperature, top_p, min_p, repeat_penalty, frequency_penalty, presence_penalty;
  std::optional<int> top_k, repeat_last_n;
  std::optional<std::uint64_t> seed;
  std::vector<std::string> stop;
  bool no_bos = false;
  bool verbose = false;

  void add_to(CLI::App* cmd);
};

// The loaded model with its tokenizer, generation defaults and a one-slot engine.
struct LoadedModel {
  explicit LoadedModel(const GenerationFlags& flags);
  Tokenizer tokenizer;
  GenerationConfig defaults;
  DeepseekV2 model;
  Engine engine;

  // A request with the flags applied over the model's defaults; stop tokens = EOS ids.
  GenerationRequest request(const GenerationFlags& flags, std::vector<std::int32_t> prompt) const;
};

// Streams a request's text to stdout as it arrives; prints speed to stderr with --verbose.
GenerationEvent stream_to_stdout(LoadedModel& m, GenerationRequest req, bool verbose);

}  // namespace dsv2::app
