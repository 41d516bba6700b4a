#include "server/request_params.h"

#include <algorithm>
#include <cmath>

#include "server/context.h"
#include "server/errors.h"
#include "tokenizer/tokenizer.h"

namespace dsv2::server {
namespace {

std::string format_number(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) {
    return std::to_string(static_cast<long long>(v));
  }
  nlohmann::json j = v;
  return j.dump();
}

}  // namespace

const char* json_type_name(const nlohmann::json& v) {
  if (v.is_boolean()) return "boolean";
  if (v.is_number()) return "number";
  if (v.is_string()) return "string";
  if (v.is_array()) return "array";
  if (v.is_object()) return "object";
  return "null";
}

Params::Params(const nlohmann::json& body, std::string prefix) : body_(body), prefix_(std::move(prefix)) {
  if (!body_.is_object()) {
    throw bad_request(prefix_.empty() ? "request body must be a JSON object"
                                      : "'" + prefix_.substr(0, prefix_.size() - 1) + "' must be an object");
  }
}

nlohmann::json Params::parse_body(const std::string& body) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(body);
  } catch (const nlohmann::json::parse_error& e) {
    throw bad_request(std::string("invalid JSON in request body: ") + e.what());
  }
  if (!j.is_object()) throw bad_request("request body must be a JSON object");
  return j;
}

const nlohmann::json* Params::get(std::string_view key) const {
  auto it = body_.find(key);
  if (it == body_.end() || it->is_null()) return nullptr;
  return &*it;
}

bool Params::has(std::string_view key) const { return get(key) != nullptr; }

void Params::type_error(std::string_view key, const char* wanted, const nlohmann::json& got) const {
  throw bad_request("'" + name(key) + "' must be " + wanted + ", got " + json_type_name(got), name(key));
}

std::optional<double> Params::number(std::string_view key, double min, double max) const {
  const nlohmann::json* v = get(key);
  if (!v) return std::nullopt;
  if (!v->is_number()) type_error(key, "a number", *v);
  double d = v->get<double>();
  if (!(d >= min && d <= max)) {
    throw bad_request("'" + name(key) + "' must be between " + format_number(min) + " and " +
                          format_number(max) + ", got " + v->dump(),
                      name(key));
  }
  return d;
}

std::optional<std::int64_t> Params::integer(std::string_view key, std::int64_t min, std::int64_t max) const {
  const nlohmann::json* v = get(key);
  if (!v) return std::nullopt;
  // 5.0 is an integer to JavaScript clients; 5.5 is not.
  bool integral = v->is_number_integer() ||
                  (v->is_number_float() && std::isfinite(v->get<double>()) && v->get<double>() == std::floor(v->get<double>()));
  if (!integral) type_error(key, "an integer", *v);
  if (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(max)) {
    throw bad_request("'" + name(key) + "' must be at most " + std::to_string(max) + ", got " + v->dump(), name(key));
  }
  double d = v->get<double>();
  if (d < static_cast<double>(min) || d > static_cast<double>(max)) {
    throw bad_request("'" + name(key) + "' must be between " + std::to_string(min) + " and " +
                          std::to_string(max) + ", got " + v->dump(),
                      name(key));
  }
  return v->is_number_float() ? static_cast<std::int64_t>(d) : v->get<std::int64_t>();
}

std::optional<bool> Params::boolean(std::string_view key) const {
  const nlohmann::json* v = get(key);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) type_error(key, "a boolean", *v);
  return v->get<bool>();
}

std::optional<std::string> Params::string(std::string_view key) const {
  const nlohmann::json* v = get(key);
  if (!v) return std::nullopt;
  if (!v->is_string()) type_error(key, "a string", *v);
  return v->get<std::string>();
}

std::optional<std::vector<std::string>> Params::strings(std::string_view key) const {
  const nlohmann::json* v = get(key);
  if (!v) return std::nullopt;
  if (v->is_string()) return std::vector<std::string>{v->get<std::string>()};
  if (!v->is_array()) type_error(key, "a string or an array of strings", *v);
  std::vector<std::string> out;
  for (const auto& item : *v) {
    if (!item.is_string()) type_error(key, "a string or an array of strings", item);
    out.push_back(item.get<std::string>());
  }
  return out;
}

const nlohmann::json* Params::object(std::string_view key) const {
  const nlohmann::json* v = get(key);
  if (v && !v->is_object()) type_error(key, "an object", *v);
  return v;
}

const nlohmann::json* Params::array(std::string_view key) const {
  const nlohmann::json* v = get(key);
  if (v && !v->is_array()) type_error(key, "an array", *v);
  return v;
}

void Params::reject_unknown(std::initializer_list<std::string_view> known) const {
  for (const auto& [key, value] : body_.items()) {
    bool found = false;
    for (std::string_view k : known) found = found || k == key;
    if (!found) throw bad_request("Unrecognized request argument supplied: " + name(key), name(key));
  }
}

SamplingParams read_sampling(const Params& p, SamplingParams s, const SamplingNames& n) {
  auto set = [&](std::string_view key, auto&& read, auto& field) {
    if (key.empty()) return;
    if (auto v = read(key)) field = static_cast<std::remove_reference_t<decltype(field)>>(*v);
  };
  set(n.temperature, [&](auto k) { return p.number(k, 0, n.max_temperature); }, s.temperature);
  set(n.top_p, [&](auto k) { return p.number(k, 0, 1); }, s.top_p);
  set(n.top_k, [&](auto k) { return p.integer(k, 0, 1 << 30); }, s.top_k);
  set(n.min_p, [&](auto k) { return p.number(k, 0, 1); }, s.min_p);
  set(n.repetition_penalty, [&](auto k) { return p.number(k, 1e-3, 100); }, s.repetition_penalty);
  set(n.penalty_last_n, [&](auto k) { return p.integer(k, -1, 1 << 30); }, s.penalty_last_n);
  set(n.frequency_penalty, [&](auto k) { return p.number(k, -2, 2); }, s.frequency_penalty);
  set(n.presence_penalty, [&](auto k) { return p.number(k, -2, 2); }, s.presence_penalty);
  // top_p = 0 keeps only the most likely token: that is greedy decoding.
  if (s.top_p == 0.0f) {
    s.top_p = 1.0f;
    s.temperature = 0.0f;
  }
  if (!n.seed.empty()) {
    if (auto seed = p.integer(n.seed, INT64_MIN, INT64_MAX)) {
      bool random = n.negative_seed_is_random && *seed < 0;
      s.has_seed = !random;
      s.seed = static_cast<std::uint64_t>(*seed);
    }
  }
  return s;
}

void check_fits_context(std::size_t prompt_tokens, std::int64_t max_tokens, std::int64_t ctx,
                        std::string_view max_tokens_param) {
  auto prompt = static_cast<std::int64_t>(prompt_tokens);
  if (max_tokens < 0) {
    if (prompt < ctx) return;
    throw HttpError(400,
                    "the prompt is " + std::to_string(prompt) + " tokens but the context is " +
                        std::to_string(ctx) + " tokens (including room for one generated token): " +
                        std::to_string(prompt + 1 - ctx) + " tokens too many",
                    "", "context_length_exceeded");
  }
  // Both terms are bounded by the parameter checks, so the sum cannot overflow. A request for
  // zero tokens still needs room for the one the engine samples after the prompt.
  if (prompt + std::max<std::int64_t>(max_tokens, 1) <= ctx) return;
  throw HttpError(400,
                  "the prompt (" + std::to_string(prompt) + " tokens) plus " + std::string(max_tokens_param) +
                      " (" + std::to_string(max_tokens) + ") is " + std::to_string(prompt + max_tokens) +
                      " tokens, over the context of " + std::to_string(ctx) + " tokens by " +
                      std::to_string(prompt + max_tokens - ctx),
                  std::string(max_tokens_param), "context_length_exceeded");
}

GenerationRequest default_request(const ServerContext& ctx) {
  GenerationRequest r;
  r.sampling = ctx.defaults.sampling;
  r.stop_tokens = ctx.defaults.eos_token_ids;
  r.time_limit = ctx.options.request_timeout;
  return r;
}

std::vector<std::int32_t> read_token_ids(const ServerContext& ctx, const nlohmann::json& value,
                                         const std::string& param) {
  std::vector<std::int32_t> ids;
  const auto vocab = static_cast<std::int64_t>(ctx.tokenizer.vocab_size());
  for (const auto& item : value) {
    if (!item.is_number_integer()) {
      throw bad_request("'" + param + "' must hold token ids (integers), got " + json_type_name(item), param);
    }
    auto id = item.get<std::int64_t>();
    if (id < 0 || id >= vocab) {
      throw bad_request("'" + param + "' has token id " + std::to_string(id) + ", outside the vocabulary [0, " +
                            std::to_string(vocab) + ")",
                        param);
    }
    ids.push_back(static_cast<std::int32_t>(id));
  }
  return ids;
}

std::vector<std::int32_t> read_prompt(const ServerContext& ctx, const nlohmann::json& value,
                                      const std::string& param, bool add_bos) {
  if (value.is_string()) return ctx.tokenizer.encode(value.get<std::string>(), add_bos);
  if (!value.is_array()) {
    throw bad_request("'" + param + "' must be a string, an array of token ids, or an array with one of those, got " +
                          json_type_name(value),
                      param);
  }
  if (value.empty() || value.front().is_number()) return read_token_ids(ctx, value, param);
  if (value.size() != 1) throw bad_request("'" + param + "' holds " + std::to_string(value.size()) +
                                               " prompts; this server takes one per request", param);
  const nlohmann::json& only = value.front();
  if (only.is_array() && (only.empty() || only.front().is_number())) return read_token_ids(ctx, only, param);
  if (!only.is_string()) throw bad_request("'" + param + "[0]' must be a string or an array of token ids", param);
  return ctx.tokenizer.encode(only.get<std::string>(), add_bos);
}

bool is_served_model(const ServerContext& ctx, const std::string& name) {
  return name == ctx.model.id || name == ctx.model.id + ":latest";
}

}  // namespace dsv2::server
