#include "generation_flags.h"

#include <cstdio>
#include <filesystem>

#include "util/error.h"

namespace dsv2::app {

void GenerationFlags::add_to(CLI::App* cmd) {
  ModelFlags::add_to(cmd);
  cmd->add_option("-c,--ctx", ctx, "Context length in tokens (prompt + output)")->capture_default_str();
  cmd->add_option("-n,--max-tokens", max_tokens, "Tokens to generate (-1: until the context is full)")
      ->capture_default_str();
  cmd->add_option("--temp,--temperature", temperature, "Sampling temperature (0 = greedy)");
  cmd->add_option("--top-k", top_k, "Keep the k most likely tokens (0 = off)");
  cmd->add_option("--top-p", top_p, "Nucleus sampling mass (1 = off)");
  cmd->add_option("--min-p", min_p, "Drop tokens below min-p times the top probability (0 = off)");
  cmd->add_option("--repeat-penalty", repeat_penalty, "Repetition penalty (1 = off)");
  cmd->add_option("--repeat-last-n", repeat_last_n, "Tokens of history the penalties look at (-1 = all)");
  cmd->add_option("--frequency-penalty", frequency_penalty, "OpenAI frequency penalty");
  cmd->add_option("--presence-penalty", presence_penalty, "OpenAI presence penalty");
  cmd->add_option("-s,--seed", seed, "Random seed (same seed + same input = same output)");
  cmd->add_option("--stop", stop, "Stop string (repeatable; not included in the output)");
  cmd->add_flag("--no-bos", no_bos, "Do not prepend the BOS token");
  cmd->add_flag("-v,--verbose", verbose, "Print timing to stderr");
}

static std::string model_dir_of(const std::string& path) {
  return std::filesystem::is_directory(path) ? path : std::filesystem::path(path).parent_path().string();
}

LoadedModel::LoadedModel(const GenerationFlags& f)
    : tokenizer(open_tokenizer(f.model)),
      defaults(load_generation_config(model_dir_of(f.model), tokenizer.eos_id())),
      model(f.open(), f.threads, f.kv_type(), f.expand_prompts()),
      engine(model, tokenizer, EngineOptions{1, f.ctx, 512, 4}) {}

GenerationRequest LoadedModel::request(const GenerationFlags& f, std::vector<std::int32_t> prompt) const {
  GenerationRequest r;
  r.prompt = std::move(prompt);
  SamplingParams& s = r.sampling;
  s = defaults.sampling;
  if (f.temperature) s.temperature = *f.temperature;
  if (f.top_k) s.top_k = *f.top_k;
  if (f.top_p) s.top_p = *f.top_p;
  if (f.min_p) s.min_p = *f.min_p;
  if (f.repeat_penalty) s.repetition_penalty = *f.repeat_penalty;
  if (f.repeat_last_n) s.penalty_last_n = *f.repeat_last_n;
  if (f.frequency_penalty) s.frequency_penalty = *f.frequency_penalty;
  if (f.presence_penalty) s.presence_penalty = *f.presence_penalty;
  if (f.seed) {
    s.seed = *f.seed;
    s.has_seed = true;
  }
  r.max_tokens = f.max_tokens;
  if (r.max_tokens < 0 && defaults.max_new_tokens) r.max_tokens = *defaults.max_new_tokens;
  r.stop = f.stop;
  r.stop_tokens = defaults.eos_token_ids;
  return r;
}

GenerationEvent stream_to_stdout(LoadedModel& m, GenerationRequest req, bool verbose) {
  GenerationEvent last = m.engine.generate(std::move(req), [](const GenerationEvent& e) {
    std::fwrite(e.text.data(), 1, e.text.size(), stdout);
    std::fflush(stdout);
    return true;
  });
  if (last.finish == FinishReason::Error) throw dsv2::Error(last.error);
  if (verbose) {
    const Usage& u = last.usage;
    std::fprintf(stderr, "\n[prompt %lld tokens (%lld cached) in %.0f ms, %.1f t/s; generated %lld tokens in %.0f ms, %.1f t/s; %s]\n",
                 static_cast<long long>(u.prompt_tokens), static_cast<long long>(u.cached_tokens), u.prompt_ms,
                 u.prompt_ms > 0 ? 1000.0 * static_cast<double>(u.prompt_tokens - u.cached_tokens) / u.prompt_ms : 0.0,
                 static_cast<long long>(u.completion_tokens), u.generation_ms,
                 u.generation_ms > 0 ? 1000.0 * static_cast<double>(u.completion_tokens - 1) / u.generation_ms : 0.0,
                 finish_reason_name(last.finish));
  }
  return last;
}

}  // namespace dsv2::app
