// llama.cpp server dialect: POST /completion, POST /infill, GET /health. Unknown fields are
// ignored, as llama.cpp does; known ones are type-checked.
//
// /infill prompt layout (DeepSeek-V2 has no repo-level FIM tokens, so the extra chunks are
// plain text, each "{filename}\n{text}" ending in a newline, after BOS and before the FIM block):
//   <BOS>{filename}\n{text}\n...<｜fim▁begin｜>{input_prefix}{prompt}<｜fim▁hole｜>{input_suffix}<｜fim▁end｜>
// llama.cpp itself, for models without FIM_REP/FIM_SEP, joins chunk texts with a
// "\n\n--- snippet ---\n\n" separator and drops the file names; it also puts the chunks before
// BOS. We keep the file names (they tell the model which file a snippet is from) and BOS first.
#include <httplib.h>

#include "generate/prompt.h"
#include "server/context.h"
#include "server/errors.h"
#include "server/generation.h"
#include "server/request_params.h"
#include "server/routes.h"
#include "server/sse.h"
#include "tokenizer/tokenizer.h"

namespace dsv2::server {
namespace {

using nlohmann::json;

const SamplingNames kLlamaSampling{};  // llama.cpp's names are the defaults

const char* stop_type(FinishReason r) {
  switch (r) {
    case FinishReason::Eos: return "eos";
    case FinishReason::Stop: return "word";
    case FinishReason::Length:
    case FinishReason::Timeout: return "limit";
    default: return "none";
  }
}

// What /completion and /infill share beyond the prompt.
struct LlamaRequest {
  GenerationRequest gen;
  bool stream = false;
  std::string prompt_text;
};

void read_common(const ServerContext& ctx, const Params& p, LlamaRequest& r) {
  r.gen.sampling = read_sampling(p, r.gen.sampling, kLlamaSampling);
  // n_predict: -1 = until the context is full (llama.cpp's default).
  r.gen.max_tokens = p.integer("n_predict", -1, 1'000'000'000).value_or(-1);
  if (auto stops = p.strings("stop")) r.gen.stop = std::move(*stops);
  r.stream = p.boolean("stream").value_or(false);
  p.boolean("cache_prompt");  // prefix reuse is always on; the field is only type-checked
  if (auto ms = p.integer("t_max_predict_ms", 0, 1'000'000'000); ms && *ms > 0) {
    r.gen.time_limit = std::min(r.gen.time_limit, std::chrono::milliseconds(*ms));
  }
  if (p.boolean("ignore_eos").value_or(false)) r.gen.stop_tokens.clear();
  check_fits_context(r.gen.prompt.size(), r.gen.max_tokens, ctx.engine.options().ctx, "n_predict");
}

json timings(const Usage& u) {
  std::int64_t prompt_n = u.prompt_tokens - u.cached_tokens;
  auto per_token = [](double ms, std::int64_t n) { return n > 0 ? ms / double(n) : 0.0; };
  auto per_second = [](double ms, std::int64_t n) { return ms > 0 ? 1e3 * double(n) / ms : 0.0; };
  return {{"cache_n", u.cached_tokens},
          {"prompt_n", prompt_n},
          {"prompt_ms", u.prompt_ms},
          {"prompt_per_token_ms", per_token(u.prompt_ms, prompt_n)},
          {"prompt_per_second", per_second(u.prompt_ms, prompt_n)},
          {"predicted_n", u.completion_tokens},
          {"predicted_ms", u.generation_ms},
          {"predicted_per_token_ms", per_token(u.generation_ms, u.completion_tokens)},
          {"predicted_per_second", per_second(u.generation_ms, u.completion_tokens)}};
}

json generation_settings(const ServerContext& ctx, const LlamaRequest& r) {
  const SamplingParams& s = r.gen.sampling;
  return {{"n_predict", r.gen.max_tokens}, {"temperature", s.temperature}, {"top_k", s.top_k},
          {"top_p", s.top_p}, {"min_p", s.min_p}, {"repeat_penalty", s.repetition_penalty},
          {"repeat_last_n", s.penalty_last_n}, {"presence_penalty", s.presence_penalty},
          {"frequency_penalty", s.frequency_penalty}, {"seed", s.has_seed ? json(s.seed) : json(-1)},
          {"stop", r.gen.stop}, {"stream", r.stream}, {"n_ctx", ctx.engine.options().ctx},
          {"model", ctx.model.id}};
}

// The final record: llama.cpp's summary fields. tokens_cached, as in llama.cpp, counts the
// tokens left in the slot's cache (prompt + generated); timings.cache_n is the reused prefix.
json final_record(const ServerContext& ctx, const LlamaRequest& r, const std::string& content,
                  const GenerationEvent& last) {
  const Usage& u = last.usage;
  return {{"index", 0}, {"content", content}, {"tokens", json::array()}, {"id_slot", -1}, {"stop", true},
          {"model", ctx.model.id}, {"tokens_predicted", u.completion_tokens}, {"tokens_evaluated", u.prompt_tokens},
          {"generation_settings", generation_settings(ctx, r)}, {"prompt", r.prompt_text},
          {"has_new_line", content.find('\n') != std::string::npos}, {"truncated", false},
          {"stop_type", stop_type(last.finish)}, {"stopping_word", last.stop_string},
          {"tokens_cached", u.prompt_tokens + u.completion_tokens}, {"timings", timings(u)}};
}

[[noreturn]] void throw_abnormal(FinishReason finish, const std::string& error) {
  if (finish == FinishReason::Error) throw HttpError(500, "generation failed: " + error);
  throw HttpError(503, "the request was cancelled (server shutting down)");
}

void respond(ServerContext& ctx, LlamaRequest r, httplib::Response& res) {
  auto gen = Generation::start(ctx, r.gen);
  if (r.stream) {
    bool has_new_line = false;
    std::int64_t predicted = 0;
    auto format = [&ctx, r, has_new_line, predicted](const GenerationEvent& e) mutable -> std::string {
      has_new_line = has_new_line || e.text.find('\n') != std::string::npos;
      if (e.token >= 0) ++predicted;
      if (e.finish == FinishReason::Error || e.finish == FinishReason::Cancelled) {
        HttpError err(e.finish == FinishReason::Error ? 500 : 503,
                      e.finish == FinishReason::Error ? e.error : "the request was cancelled");
        return sse_event(json::parse(error_body(Dialect::LlamaCpp, err)));
      }
      if (!e.done) {
        if (e.text.empty()) return "";
        return sse_event({{"index", 0}, {"content", e.text}, {"tokens", json::array()}, {"stop", false},
                          {"id_slot", -1}, {"tokens_predicted", predicted},
                          {"tokens_evaluated", r.gen.prompt.size()}});
      }
      json last = final_record(ctx, r, e.text, e);
      last["has_new_line"] = has_new_line;
      return sse_event(last);
    };
    return stream_events(res, gen, kSseContentType, std::move(format));
  }
  Outcome o = gen->collect();
  if (o.finish == FinishReason::Error || o.finish == FinishReason::Cancelled) throw_abnormal(o.finish, o.error);
  GenerationEvent last;
  last.finish = o.finish;
  last.stop_string = o.stop_string;
  last.usage = o.usage;
  res.set_content(dump_json(final_record(ctx, r, o.text, last)), "application/json");
}

void completion(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  json body = Params::parse_body(req.body);
  Params p(body);
  const json* prompt = p.get("prompt");
  if (!prompt) throw bad_request("\"prompt\" is required", "prompt");
  LlamaRequest r{default_request(ctx), false, ""};
  r.gen.prompt = read_prompt(ctx, *prompt, "prompt", ctx.tokenizer.add_bos());
  r.prompt_text = prompt->is_string() ? prompt->get<std::string>() : ctx.tokenizer.decode(r.gen.prompt, false);
  read_common(ctx, p, r);
  respond(ctx, std::move(r), res);
}

// input_extra: [{"filename": string, "text": string}] as text before the FIM block.
std::string extra_context(const Params& p) {
  const json* extra = p.array("input_extra");
  if (!extra) return "";
  std::string out;
  for (std::size_t i = 0; i < extra->size(); ++i) {
    const json& chunk = (*extra)[i];
    Params c(chunk, "input_extra[" + std::to_string(i) + "].");
    std::string text = c.string("text").value_or("");
    out += c.string("filename").value_or("tmp") + "\n" + text;
    if (!text.empty() && text.back() != '\n') out += '\n';
  }
  return out;
}

void infill(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  json body = Params::parse_body(req.body);
  Params p(body);
  if (!find_fim_tokens(ctx.tokenizer)) throw bad_request("model does not support insertion");
  std::string prefix = p.string("input_prefix").value_or("");
  std::string suffix = p.string("input_suffix").value_or("");
  std::string extra = extra_context(p);
  prefix += p.string("prompt").value_or("");
  LlamaRequest r{default_request(ctx), false, prefix};
  const Tokenizer& tok = ctx.tokenizer;
  if (tok.add_bos() && tok.bos_id() >= 0) r.gen.prompt.push_back(tok.bos_id());
  for (std::int32_t id : tok.encode(extra, false)) r.gen.prompt.push_back(id);
  for (std::int32_t id : fim_prompt(tok, prefix, suffix, false)) r.gen.prompt.push_back(id);
  r.gen.stop_tokens = fim_stop_tokens(tok);
  read_common(ctx, p, r);
  respond(ctx, std::move(r), res);
}

}  // namespace

void register_llamacpp_routes(httplib::Server& http, ServerContext& ctx) {
  http.Post("/completion", [&ctx](const httplib::Request& req, httplib::Response& res) { completion(ctx, req, res); });
  http.Post("/completions", [&ctx](const httplib::Request& req, httplib::Response& res) { completion(ctx, req, res); });
  http.Post("/infill", [&ctx](const httplib::Request& req, httplib::Response& res) { infill(ctx, req, res); });
  http.Get("/health", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"status":"ok"})", "application/json");
  });
}

}  // namespace dsv2::server
