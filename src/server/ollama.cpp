// Ollama dialect: POST /api/generate, POST /api/chat (NDJSON streams, on by default), GET /api/tags,
// POST /api/show, GET /api/version. Unknown fields and options are ignored, as Ollama does;
// known ones are type-checked.
#include <httplib.h>

#include <ctime>

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
using Clock = std::chrono::steady_clock;

const SamplingNames kOllamaSampling{};  // Ollama's option names match llama.cpp's

// RFC 3339 with nanoseconds, as Go's time.Time marshals.
std::string rfc3339_now() {
  auto now = std::chrono::system_clock::now();
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%09lldZ", static_cast<long long>(ns % 1'000'000'000));
  return buf;
}

std::string model_tag(const ServerContext& ctx) { return ctx.model.id + ":latest"; }

void check_model(const ServerContext& ctx, const Params& p) {
  auto model = p.string("model");
  if (!model) model = p.string("name");  // the older field name
  if (!model || model->empty()) throw bad_request("model is required", "model");
  if (!is_served_model(ctx, *model)) throw HttpError(404, "model '" + *model + "' not found", "model");
}

struct OllamaRequest {
  GenerationRequest gen;
  bool stream = true;
  Clock::time_point started = Clock::now();
};

// "options": sampling, num_predict, stop, num_ctx.
void read_options(const ServerContext& ctx, const Params& p, OllamaRequest& r) {
  r.stream = p.boolean("stream").value_or(true);
  static const json kEmpty = json::object();
  const json* options = p.object("options");
  Params o(options ? *options : kEmpty, "options.");
  r.gen.sampling = read_sampling(o, r.gen.sampling, kOllamaSampling);
  // num_predict: -1 = no limit, -2 = fill the context (the same thing here).
  std::int64_t max = o.integer("num_predict", -2, 1'000'000'000).value_or(-1);
  r.gen.max_tokens = max < 0 ? -1 : max;
  if (auto stops = o.strings("stop")) r.gen.stop = std::move(*stops);
  std::int64_t ctx_len = ctx.engine.options().ctx;
  // A smaller num_ctx is honoured as a tighter budget; a larger one cannot be (slots are fixed).
  if (auto num_ctx = o.integer("num_ctx", 1, 1 << 30)) ctx_len = std::min(ctx_len, *num_ctx);
  if (r.gen.max_tokens < 0 && ctx_len < ctx.engine.options().ctx) {
    r.gen.max_tokens = std::max<std::int64_t>(0, ctx_len - static_cast<std::int64_t>(r.gen.prompt.size()));
  }
  check_fits_context(r.gen.prompt.size(), r.gen.max_tokens, ctx_len, "options.num_predict");
}

const char* done_reason(FinishReason r) {
  return r == FinishReason::Length || r == FinishReason::Timeout ? "length" : "stop";
}

// The counters of the final record, durations in nanoseconds.
void add_counts(json& record, const Usage& u, Clock::time_point started) {
  auto total = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - started).count();
  record["done_reason"] = record.value("done_reason", "stop");
  record["total_duration"] = total;
  record["load_duration"] = 0;
  record["prompt_eval_count"] = u.prompt_tokens;
  record["prompt_eval_duration"] = static_cast<std::int64_t>(u.prompt_ms * 1e6);
  record["eval_count"] = u.completion_tokens;
  record["eval_duration"] = static_cast<std::int64_t>(u.generation_ms * 1e6);
}

bool abnormal(FinishReason f) { return f == FinishReason::Error || f == FinishReason::Cancelled; }

std::string abnormal_message(FinishReason f, const std::string& error) {
  return f == FinishReason::Error ? "generation failed: " + error : "the request was cancelled";
}

// A request with nothing to generate from only "loads the model" in Ollama.
void respond_loaded(const ServerContext& ctx, httplib::Response& res, bool chat) {
  json out = {{"model", model_tag(ctx)}, {"created_at", rfc3339_now()}, {"done", true}, {"done_reason", "load"}};
  if (chat) out["message"] = {{"role", "assistant"}, {"content", ""}};
  else out["response"] = "";
  res.set_content(dump_json(out), "application/json");
}

// Streams or collects; `piece` wraps generated text in the endpoint's record shape.
void respond(ServerContext& ctx, OllamaRequest r, httplib::Response& res, std::function<json(const std::string&)> piece,
             bool with_context) {
  std::vector<std::int32_t> context = r.gen.prompt;
  std::string tag = model_tag(ctx);
  auto finish = [=](const std::string& text, const GenerationEvent& last, const std::vector<std::int32_t>& ctx_ids) {
    json record = piece(text);
    record["model"] = tag;
    record["created_at"] = rfc3339_now();
    record["done"] = true;
    record["done_reason"] = done_reason(last.finish);
    if (with_context) record["context"] = ctx_ids;
    add_counts(record, last.usage, r.started);
    return record;
  };
  auto gen = Generation::start(ctx, r.gen);
  if (r.stream) {
    auto format = [=](const GenerationEvent& e) mutable -> std::string {
      if (e.token >= 0) context.push_back(e.token);
      if (abnormal(e.finish)) return ndjson_line({{"error", abnormal_message(e.finish, e.error)}});
      if (!e.done) {
        if (e.text.empty()) return "";
        json record = piece(e.text);
        record["model"] = tag;
        record["created_at"] = rfc3339_now();
        record["done"] = false;
        return ndjson_line(record);
      }
      return ndjson_line(finish(e.text, e, context));
    };
    return stream_events(res, gen, kNdjsonContentType, std::move(format));
  }
  Outcome o = gen->collect();
  if (o.finish == FinishReason::Error) throw HttpError(500, abnormal_message(o.finish, o.error));
  if (o.finish == FinishReason::Cancelled) throw HttpError(503, abnormal_message(o.finish, o.error));
  GenerationEvent last;
  last.finish = o.finish;
  last.usage = o.usage;
  std::vector<std::int32_t> ids = context;
  ids.insert(ids.end(), o.tokens.begin(), o.tokens.end());
  res.set_content(dump_json(finish(o.text, last, ids)), "application/json");
}

std::vector<std::int32_t> encode_template(const ServerContext& ctx, const json& messages) {
  try {
    return chat_prompt(ctx.tokenizer, messages, true);
  } catch (const dsv2::Error& e) {
    throw bad_request(e.what());
  }
}

// ---- /api/generate ---------------------------------------------------------------------------

std::vector<std::int32_t> generate_prompt(const ServerContext& ctx, const Params& p, const std::string& prompt) {
  const Tokenizer& tok = ctx.tokenizer;
  auto suffix = p.string("suffix");
  if (suffix && !suffix->empty()) {
    if (!find_fim_tokens(tok)) throw bad_request("model does not support insertion", "suffix");
    return fim_prompt(tok, prompt, *suffix, tok.add_bos());
  }
  std::vector<std::int32_t> ids;
  if (const json* context = p.array("context")) ids = read_token_ids(ctx, *context, "context");
  bool raw = p.boolean("raw").value_or(false);
  if (raw || !ids.empty()) {
    // Raw text, or a continuation of a previous exchange's "context": no template around it.
    std::vector<std::int32_t> more = tok.encode(prompt, ids.empty() && tok.add_bos());
    ids.insert(ids.end(), more.begin(), more.end());
    return ids;
  }
  json messages = json::array();
  if (auto system = p.string("system"); system && !system->empty()) messages.push_back({{"role", "system"}, {"content", *system}});
  messages.push_back({{"role", "user"}, {"content", prompt}});
  return encode_template(ctx, messages);
}

void generate(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  json body = Params::parse_body(req.body);
  Params p(body);
  check_model(ctx, p);
  std::string prompt = p.string("prompt").value_or("");
  p.string("system");
  p.string("template");
  if (prompt.empty() && !p.has("suffix")) return respond_loaded(ctx, res, false);
  OllamaRequest r{default_request(ctx)};
  r.gen.prompt = generate_prompt(ctx, p, prompt);
  if (p.has("suffix")) r.gen.stop_tokens = fim_stop_tokens(ctx.tokenizer);
  read_options(ctx, p, r);
  auto piece = [](const std::string& text) { return json{{"response", text}}; };
  respond(ctx, std::move(r), res, piece, true);
}

// ---- /api/chat -------------------------------------------------------------------------------

json chat_messages(const Params& p) {
  const json* messages = p.array("messages");
  json out = json::array();
  if (!messages) return out;
  for (std::size_t i = 0; i < messages->size(); ++i) {
    Params m((*messages)[i], "messages[" + std::to_string(i) + "].");
    std::string role = m.string("role").value_or("");
    if (role != "system" && role != "user" && role != "assistant") {
      throw bad_request("'" + m.name("role") + "' must be system, user or assistant, got '" + role + "'");
    }
    if (const json* images = m.array("images"); images && !images->empty()) throw bad_request("images are not supported by this model");
    out.push_back({{"role", role}, {"content", m.string("content").value_or("")}});
  }
  return out;
}

void chat(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  json body = Params::parse_body(req.body);
  Params p(body);
  check_model(ctx, p);
  if (const json* tools = p.array("tools"); tools && !tools->empty()) throw bad_request("this model does not support tools");
  json messages = chat_messages(p);
  if (messages.empty()) return respond_loaded(ctx, res, true);
  OllamaRequest r{default_request(ctx)};
  r.gen.prompt = encode_template(ctx, messages);
  read_options(ctx, p, r);
  auto piece = [](const std::string& text) { return json{{"message", {{"role", "assistant"}, {"content", text}}}}; };
  respond(ctx, std::move(r), res, piece, false);
}

// ---- /api/tags, /api/show --------------------------------------------------------------------

json details(const ServerContext& ctx) {
  char size[32];
  std::snprintf(size, sizeof size, "%.1fB", double(ctx.model.parameter_count) / 1e9);
  return {{"parent_model", ""}, {"format", ctx.model.format}, {"family", ctx.model.family},
          {"families", json::array({ctx.model.family})}, {"parameter_size", size},
          {"quantization_level", ctx.model.quantization}};
}

std::string modified_at(const ServerContext& ctx) {
  std::time_t t = static_cast<std::time_t>(ctx.model.created);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void tags(const ServerContext& ctx, httplib::Response& res) {
  json model = {{"name", model_tag(ctx)}, {"model", model_tag(ctx)}, {"modified_at", modified_at(ctx)},
                {"size", ctx.model.size_bytes}, {"digest", ""}, {"details", details(ctx)}};
  res.set_content(dump_json({{"models", json::array({model})}}), "application/json");
}

void show(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  json body = Params::parse_body(req.body);
  Params p(body);
  check_model(ctx, p);
  const std::string& arch = ctx.model.family;
  json info = {{"general.architecture", arch}, {"general.parameter_count", ctx.model.parameter_count},
               // what a client may send per request: the server's slot size, not the model's maximum
               {arch + ".context_length", ctx.engine.options().ctx}};
  json capabilities = json::array({"completion"});
  if (find_fim_tokens(ctx.tokenizer)) capabilities.push_back("insert");
  json out = {{"license", ""}, {"modelfile", "# served by dsv2\nFROM " + ctx.model.path + "\n"},
              {"parameters", ""}, {"template", ctx.tokenizer.chat_template()}, {"details", details(ctx)},
              {"model_info", info}, {"capabilities", capabilities}, {"modified_at", modified_at(ctx)}};
  res.set_content(dump_json(out), "application/json");
}

}  // namespace

void register_ollama_routes(httplib::Server& http, ServerContext& ctx) {
  http.Post("/api/generate", [&ctx](const httplib::Request& req, httplib::Response& res) { generate(ctx, req, res); });
  http.Post("/api/chat", [&ctx](const httplib::Request& req, httplib::Response& res) { chat(ctx, req, res); });
  http.Get("/api/tags", [&ctx](const httplib::Request&, httplib::Response& res) { tags(ctx, res); });
  http.Post("/api/show", [&ctx](const httplib::Request& req, httplib::Response& res) { show(ctx, req, res); });
  http.Get("/api/version", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"version":"0.5.0"})", "application/json");
  });
}

}  // namespace dsv2::server
