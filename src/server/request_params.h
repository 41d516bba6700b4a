// Typed access to the fields of a JSON request body. Every check names the parameter, so a bad
// request comes back as a 400 saying which field is wrong and why, e.g.
//   'temperature' must be a number, got string
//   'max_tokens' must be between 1 and 1000000000, got -5
// The dialect handlers turn the fields into a GenerationRequest; nothing here knows a dialect.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "generate/engine.h"
#include "generate/sampler.h"

namespace dsv2::server {

struct ServerContext;

class Params {
 public:
  // body must be a JSON object; prefix names nested objects in messages ("options.").
  explicit Params(const nlohmann::json& body, std::string prefix = "");

  // Parses a request body; malformed JSON (invalid UTF-8 included) or a non-object is a 400.
  static nlohmann::json parse_body(const std::string& body);

  bool has(std::string_view key) const;  // present and not null
  const nlohmann::json* get(std::string_view key) const;  // nullptr when absent or null

  std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max) const;
  std::optional<double> number(std::string_view key, double min, double max) const;
  std::optional<bool> boolean(std::string_view key) const;
  std::optional<std::string> string(std::string_view key) const;
  // A string or an array of strings (OpenAI's and Ollama's "stop").
  std::optional<std::vector<std::string>> strings(std::string_view key) const;
  const nlohmann::json* object(std::string_view key) const;
  const nlohmann::json* array(std::string_view key) const;

  // 400 for the first field not in known (for dialects whose original rejects unknown fields).
  void reject_unknown(std::initializer_list<std::string_view> known) const;

  std::string name(std::string_view key) const { return prefix_ + std::string(key); }

 private:
  [[noreturn]] void type_error(std::string_view key, const char* wanted, const nlohmann::json& got) const;

  const nlohmann::json& body_;
  std::string prefix_;
};

// The field names one dialect uses for the sampling parameters; empty = not offered.
struct SamplingNames {
  std::string_view temperature = "temperature", top_p = "top_p", top_k = "top_k", min_p = "min_p",
                   repetition_penalty = "repeat_penalty", penalty_last_n = "repeat_last_n",
                   frequency_penalty = "frequency_penalty", presence_penalty = "presence_penalty",
                   seed = "seed";
  double max_temperature = 100;
  bool negative_seed_is_random = true;  // llama.cpp and Ollama: seed -1 = random
};

// Overrides `base` (the model's defaults) with whatever the request sets.
SamplingParams read_sampling(const Params& p, SamplingParams base, const SamplingNames& names);

// A 400 unless prompt + max_tokens fits in ctx; says by how many tokens it does not. max_tokens
// < 0 means "until the context is full", which needs room for at least one token.
void check_fits_context(std::size_t prompt_tokens, std::int64_t max_tokens, std::int64_t ctx,
                        std::string_view max_tokens_param);

// The request every dialect starts from: the model's sampling defaults, its EOS ids as stop
// tokens, no token limit, the server's time limit.
GenerationRequest default_request(const ServerContext& ctx);

// A prompt field: text (encoded, BOS first when add_bos), token ids, or an array holding exactly
// one of those (OpenAI allows a batch of prompts; one is all this server does per request).
std::vector<std::int32_t> read_prompt(const ServerContext& ctx, const nlohmann::json& value,
                                      const std::string& param, bool add_bos);

// Token ids must be in the vocabulary.
std::vector<std::int32_t> read_token_ids(const ServerContext& ctx, const nlohmann::json& value,
                                         const std::string& param);

// Whether `name` (from a request's "model") is the served model; Ollama-style ":latest" tags
// are accepted too.
bool is_served_model(const ServerContext& ctx, const std::string& name);

// Name of a JSON value's type for messages ("string", "number", ...).
const char* json_type_name(const nlohmann::json& v);

}  // namespace dsv2::server
