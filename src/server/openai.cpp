// OpenAI dialect: POST /v1/chat/completions, POST /v1/completions, POST /beta/completions
// (DeepSeek's FIM endpoint: the same request, FIM when "suffix" is given), GET /v1/models.
// Unknown fields are rejected as api.openai.com does; known ones this server cannot honour
// (n > 1, logprobs, tools, ...) are a 400 rather than silently ignored.
#include <httplib.h>

#include <random>

#include "generate/prompt.h"
#include "server/context.h"
#include "server/errors.h"
#include "server/generation.h"
#include "server/request_params.h"
#include "server/routes.h"
#include "server/sse.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace dsv2::server {
namespace {

using nlohmann::json;

// vLLM's names for the sampling extensions OpenAI lacks.
const SamplingNames kOpenAiSampling{.temperature = "temperature", .top_p = "top_p", .top_k = "top_k",
                                     .min_p = "min_p", .repetition_penalty = "repetition_penalty",
                                     .penalty_last_n = "", .frequency_penalty = "frequency_penalty",
                                     .presence_penalty = "presence_penalty", .seed = "seed",
                                     .max_temperature = 2, .negative_seed_is_random = false};
constexpr std::int64_t kMaxTokensLimit = 1'000'000'000;
constexpr std::size_t kMaxStops = 16;

std::string random_id(const char* prefix) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return std::string(prefix) + buf;
}

const char* finish_name(FinishReason r) {
  switch (r) {
    case FinishReason::Length:
    case FinishReason::Timeout: return "length";
    default: return "stop";
  }
}

json usage_json(const Usage& u) {
  return {{"prompt_tokens", u.prompt_tokens},
          {"completion_tokens", u.completion_tokens},
          {"total_tokens", u.prompt_tokens + u.completion_tokens},
          {"prompt_tokens_details", {{"cached_tokens", u.cached_tokens}}}};
}

void check_model(const ServerContext& ctx, const Params& p) {
  auto model = p.string("model");
  if (model && !is_served_model(ctx, *model)) {
    throw HttpError(404, "The model `" + *model + "` does not exist or you do not have access to it.",
                    "model", "model_not_found");
  }
}

// Fields OpenAI defines that only make sense with their default values here.
void reject_unsupported(const Params& p) {
  if (auto n = p.integer("n", 1, 128); n && *n != 1) throw bad_request("only n = 1 is supported", "n");
  if (auto n = p.integer("best_of", 1, 128); n && *n != 1) throw bad_request("only best_of = 1 is supported", "best_of");
  const json* logprobs = p.get("logprobs");
  if (logprobs && !(logprobs->is_boolean() && !logprobs->get<bool>())) {
    throw bad_request("logprobs are not supported by this server", "logprobs");
  }
  for (const char* key : {"tools", "functions"}) {
    if (const json* v = p.array(key); v && !v->empty()) throw bad_request(std::string(key) + " are not supported by this server", key);
  }
  if (const json* bias = p.object("logit_bias"); bias && !bias->empty()) {
    throw bad_request("logit_bias is not supported by this server", "logit_bias");
  }
  if (const json* format = p.object("response_format")) {
    Params f(*format, "response_format.");
    if (f.string("type").value_or("text") != "text") {
      throw bad_request("only response_format type \"text\" is supported", "response_format");
    }
  }
}

struct StreamFlags {
  bool stream = false, include_usage = false;
};

StreamFlags read_stream(const Params& p) {
  StreamFlags f;
  f.stream = p.boolean("stream").value_or(false);
  if (const json* opts = p.object("stream_options")) {
    if (!f.stream) throw bad_request("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options");
    f.include_usage = Params(*opts, "stream_options.").boolean("include_usage").value_or(false);
  }
  return f;
}

// Sampling, max tokens and stop strings: the same for both endpoints.
void read_generation_fields(const ServerContext& ctx, const Params& p, GenerationRequest& r,
                            std::int64_t default_max, bool chat) {
  r.sampling = read_sampling(p, r.sampling, kOpenAiSampling);
  r.max_tokens = default_max;
  std::string max_param = "max_tokens";
  if (auto m = p.integer("max_tokens", 1, kMaxTokensLimit)) r.max_tokens = *m;
  if (chat) {
    if (auto m = p.integer("max_completion_tokens", 1, kMaxTokensLimit)) {
      r.max_tokens = *m;
      max_param = "max_completion_tokens";
    }
  }
  if (auto stops = p.strings("stop")) {
    if (stops->size() > kMaxStops) throw bad_request("'stop' holds more than " + std::to_string(kMaxStops) + " strings", "stop");
    r.stop = std::move(*stops);
  }
  check_fits_context(r.prompt.size(), r.max_tokens, ctx.engine.options().ctx, max_param);
}

// Non-streamed outcomes that are not a normal end.
void check_outcome(const Outcome& o) {
  if (o.finish == FinishReason::Error) throw HttpError(500, "generation failed: " + o.error);
  if (o.finish == FinishReason::Cancelled) throw HttpError(503, "the request was cancelled (server shutting down)");
}

json error_event(const GenerationEvent& e) {
  HttpError err(e.finish == FinishReason::Error ? 500 : 503,
                e.finish == FinishReason::Error ? "generation failed: " + e.error : "the request was cancelled");
  return json::parse(error_body(Dialect::OpenAI, err));
}

bool abnormal(const GenerationEvent& e) {
  return e.finish == FinishReason::Error || e.finish == FinishReason::Cancelled;
}

// The events after a stream's finish chunk: with stream_options.include_usage, a chunk with no
// choices that carries the usage (as OpenAI sends it), then [DONE].
std::string stream_end(const char* object, const std::string& id, std::int64_t created, const std::string& model,
                       StreamFlags flags, const Usage& usage) {
  std::string out;
  if (flags.include_usage)
    out = sse_event({{"id", id}, {"object", object}, {"created", created}, {"model", model},
                     {"system_fingerprint", "dsv2"}, {"choices", json::array()}, {"usage", usage_json(usage)}});
  return out + sse_done();
}

// ---- chat ------------------------------------------------------------------------------------

const std::initializer_list<std::string_view> kChatFields = {
    "messages", "model", "frequency_penalty", "logit_bias", "logprobs", "top_logprobs", "max_tokens",
    "max_completion_tokens", "n", "presence_penalty", "response_format", "seed", "service_tier", "stop",
    "stream", "stream_options", "temperature", "top_p", "tools", "tool_choice", "parallel_tool_calls",
    "user", "store", "metadata", "modalities", "reasoning_effort", "function_call", "functions",
    "prediction", "audio", "web_search_options", "verbosity", "prompt_cache_key", "safety_identifier",
    // extensions (vLLM's names)
    "top_k", "min_p", "repetition_penalty"};

// Message content: a string, or an array of parts of which only text parts are supported.
std::string message_text(const json& content, const std::string& where) {
  if (content.is_null()) return "";
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array()) throw bad_request("'" + where + ".content' must be a string or an array of parts", "messages");
  std::string text;
  for (const auto& part : content) {
    if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") || !part["text"].is_string()) {
      throw bad_request("'" + where + ".content' parts must be {\"type\": \"text\", \"text\": string}; "
                        "only text is supported", "messages");
    }
    text += part["text"].get<std::string>();
  }
  return text;
}

// Validates the messages and reduces them to what the template reads: [{role, content}].
json normalize_messages(const Params& p) {
  const json* messages = p.array("messages");
  if (!messages) throw bad_request("Missing required parameter: 'messages'.", "messages");
  if (messages->empty()) throw bad_request("'messages' must be a non-empty array", "messages");
  json out = json::array();
  for (std::size_t i = 0; i < messages->size(); ++i) {
    std::string where = "messages[" + std::to_string(i) + "]";
    const json& m = (*messages)[i];
    if (!m.is_object()) throw bad_request("'" + where + "' must be an object", "messages");
    if (!m.contains("role") || !m["role"].is_string()) throw bad_request("'" + where + ".role' must be a string", "messages");
    std::string role = m["role"].get<std::string>();
    if (role == "developer") role = "system";  // OpenAI's newer name for the system role
    if (role != "system" && role != "user" && role != "assistant") {
      throw bad_request("'" + where + ".role' must be system, developer, user or assistant, got '" + role + "'", "messages");
    }
    if (!m.contains("content") && role != "assistant") throw bad_request("'" + where + ".content' is required", "messages");
    out.push_back({{"role", role}, {"content", message_text(m.value("content", json()), where)}});
  }
  return out;
}

std::vector<std::int32_t> encode_chat(const ServerContext& ctx, const json& messages) {
  try {
    return chat_prompt(ctx.tokenizer, messages, true);
  } catch (const dsv2::Error& e) {
    throw bad_request(e.what(), "messages");
  }
}

json chat_chunk(const std::string& id, std::int64_t created, const std::string& model, json delta,
                json finish, bool include_usage) {
  json chunk = {{"id", id}, {"object", "chat.completion.chunk"}, {"created", created}, {"model", model},
                {"system_fingerprint", "dsv2"},
                {"choices", json::array({{{"index", 0}, {"delta", std::move(delta)}, {"logprobs", nullptr},
                                          {"finish_reason", std::move(finish)}}})}};
  if (include_usage) chunk["usage"] = nullptr;
  return chunk;
}

EventFormatter chat_stream(const ServerContext& ctx, StreamFlags flags) {
  std::string id = random_id("chatcmpl-"), model = ctx.model.id;
  std::int64_t created = unix_now();
  bool first = true;
  return [=](const GenerationEvent& e) mutable {
    std::string out;
    if (first && !abnormal(e)) {
      out += sse_event(chat_chunk(id, created, model, {{"role", "assistant"}, {"content", ""}}, nullptr, flags.include_usage));
    }
    first = false;
    if (!e.text.empty()) {
      out += sse_event(chat_chunk(id, created, model, {{"content", e.text}}, nullptr, flags.include_usage));
    }
    if (!e.done) return out;
    if (abnormal(e)) return out + sse_event(error_event(e)) + sse_done();
    out += sse_event(chat_chunk(id, created, model, json::object(), finish_name(e.finish), flags.include_usage));
    return out + stream_end("chat.completion.chunk", id, created, model, flags, e.usage);
  };
}

void chat_completions(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  json body = Params::parse_body(req.body);
  Params p(body);
  p.reject_unknown(kChatFields);
  check_model(ctx, p);
  reject_unsupported(p);
  StreamFlags flags = read_stream(p);
  GenerationRequest r = default_request(ctx);
  r.prompt = encode_chat(ctx, normalize_messages(p));
  read_generation_fields(ctx, p, r, -1, true);
  auto gen = Generation::start(ctx, std::move(r));
  if (flags.stream) return stream_events(res, gen, kSseContentType, chat_stream(ctx, flags));
  Outcome o = gen->collect();
  check_outcome(o);
  json out = {{"id", random_id("chatcmpl-")}, {"object", "chat.completion"}, {"created", unix_now()},
              {"model", ctx.model.id}, {"system_fingerprint", "dsv2"},
              {"choices", json::array({{{"index", 0},
                                        {"message", {{"role", "assistant"}, {"content", o.text}, {"refusal", nullptr}}},
                                        {"logprobs", nullptr}, {"finish_reason", finish_name(o.finish)}}})},
              {"usage", usage_json(o.usage)}};
  res.set_content(dump_json(out), "application/json");
}

// ---- completions (and DeepSeek's /beta/completions) ------------------------------------------

const std::initializer_list<std::string_view> kCompletionFields = {
    "model", "prompt", "suffix", "echo", "max_tokens", "temperature", "top_p", "n", "best_of", "stream",
    "stream_options", "stop", "presence_penalty", "frequency_penalty", "logit_bias", "logprobs", "seed",
    "user", "top_k", "min_p", "repetition_penalty"};
constexpr std::int64_t kCompletionDefaultMaxTokens = 16;  // as OpenAI's legacy completions

// The prompt tokens and, for echo, the prompt text.
std::vector<std::int32_t> completion_prompt(const ServerContext& ctx, const Params& p, std::string& prompt_text) {
  const json* prompt = p.get("prompt");
  if (!prompt) throw bad_request("Missing required parameter: 'prompt'.", "prompt");
  auto suffix = p.string("suffix");
  if (!suffix) {
    std::vector<std::int32_t> ids = read_prompt(ctx, *prompt, "prompt", ctx.tokenizer.add_bos());
    bool has_bos = !ids.empty() && ids.front() == ctx.tokenizer.bos_id();
    prompt_text = ctx.tokenizer.decode(std::span(ids).subspan(has_bos ? 1 : 0), true);
    return ids;
  }
  std::string prefix;
  if (prompt->is_string()) prefix = prompt->get<std::string>();
  else if (prompt->is_array() && prompt->size() == 1 && prompt->front().is_string()) prefix = prompt->front().get<std::string>();
  else throw bad_request("'prompt' must be text when 'suffix' is given", "prompt");
  if (!find_fim_tokens(ctx.tokenizer)) throw bad_request("model does not support insertion", "suffix");
  prompt_text = prefix;
  return fim_prompt(ctx.tokenizer, prefix, *suffix, ctx.tokenizer.add_bos());
}

json completion_chunk(const std::string& id, std::int64_t created, const std::string& model, const std::string& text,
                      json finish, bool include_usage) {
  json chunk = {{"id", id}, {"object", "text_completion"}, {"created", created}, {"model", model},
                {"system_fingerprint", "dsv2"},
                {"choices", json::array({{{"text", text}, {"index", 0}, {"logprobs", nullptr},
                                          {"finish_reason", std::move(finish)}}})}};
  if (include_usage) chunk["usage"] = nullptr;
  return chunk;
}

EventFormatter completion_stream(const ServerContext& ctx, StreamFlags flags, std::string echo) {
  std::string id = random_id("cmpl-"), model = ctx.model.id;
  std::int64_t created = unix_now();
  return [=](const GenerationEvent& e) mutable {
    std::string out;
    if (!echo.empty()) out += sse_event(completion_chunk(id, created, model, echo, nullptr, flags.include_usage));
    echo.clear();
    if (!e.text.empty()) out += sse_event(completion_chunk(id, created, model, e.text, nullptr, flags.include_usage));
    if (!e.done) return out;
    if (abnormal(e)) return out + sse_event(error_event(e)) + sse_done();
    out += sse_event(completion_chunk(id, created, model, "", finish_name(e.finish), flags.include_usage));
    return out + stream_end("text_completion", id, created, model, flags, e.usage);
  };
}

void completions(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  json body = Params::parse_body(req.body);
  Params p(body);
  p.reject_unknown(kCompletionFields);
  check_model(ctx, p);
  reject_unsupported(p);
  StreamFlags flags = read_stream(p);
  bool echo = p.boolean("echo").value_or(false);
  if (echo && p.has("suffix")) throw bad_request("'echo' cannot be combined with 'suffix'", "echo");
  GenerationRequest r = default_request(ctx);
  std::string prompt_text;
  r.prompt = completion_prompt(ctx, p, prompt_text);
  if (p.has("suffix")) r.stop_tokens = fim_stop_tokens(ctx.tokenizer);
  read_generation_fields(ctx, p, r, kCompletionDefaultMaxTokens, false);
  auto gen = Generation::start(ctx, std::move(r));
  if (flags.stream) {
    return stream_events(res, gen, kSseContentType, completion_stream(ctx, flags, echo ? prompt_text : ""));
  }
  Outcome o = gen->collect();
  check_outcome(o);
  json out = {{"id", random_id("cmpl-")}, {"object", "text_completion"}, {"created", unix_now()},
              {"model", ctx.model.id}, {"system_fingerprint", "dsv2"},
              {"choices", json::array({{{"text", echo ? prompt_text + o.text : o.text}, {"index", 0},
                                        {"logprobs", nullptr}, {"finish_reason", finish_name(o.finish)}}})},
              {"usage", usage_json(o.usage)}};
  res.set_content(dump_json(out), "application/json");
}

// ---- models ----------------------------------------------------------------------------------

json model_object(const ServerContext& ctx) {
  return {{"id", ctx.model.id}, {"object", "model"}, {"created", ctx.model.created}, {"owned_by", "dsv2"}};
}

}  // namespace

void register_openai_routes(httplib::Server& http, ServerContext& ctx) {
  http.Post("/v1/chat/completions", [&ctx](const httplib::Request& req, httplib::Response& res) {
    chat_completions(ctx, req, res);
  });
  for (const char* path : {"/v1/completions", "/beta/completions"}) {
    http.Post(path, [&ctx](const httplib::Request& req, httplib::Response& res) { completions(ctx, req, res); });
  }
  http.Get("/v1/models", [&ctx](const httplib::Request&, httplib::Response& res) {
    res.set_content(dump_json({{"object", "list"}, {"data", json::array({model_object(ctx)})}}), "application/json");
  });
  http.Get(R"(/v1/models/(.+))", [&ctx](const httplib::Request& req, httplib::Response& res) {
    std::string name = req.matches[1];
    if (!is_served_model(ctx, name)) {
      throw HttpError(404, "The model `" + name + "` does not exist or you do not have access to it.", "model",
                      "model_not_found");
    }
    res.set_content(dump_json(model_object(ctx)), "application/json");
  });
}

}  // namespace dsv2::server
