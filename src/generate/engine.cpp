#include "generate/engine.h"

#include <algorithm>
#include <future>
#include <optional>

#include "generate/stop.h"
#include "model/deepseek_v2.h"
#include "tokenizer/stream_decoder.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace dsv2 {

using Clock = std::chrono::steady_clock;

const char* finish_reason_name(FinishReason r) {
  switch (r) {
    case FinishReason::None: return "none";
    case FinishReason::Length: return "length";
    case FinishReason::Stop:
    case FinishReason::Eos: return "stop";
    case FinishReason::Cancelled: return "cancelled";
    case FinishReason::Timeout: return "timeout";
    case FinishReason::Error: return "error";
  }
  return "none";
}

struct Engine::Sequence {
  std::uint64_t id = 0;
  GenerationRequest req;
  EventCallback on_event;
  Clock::time_point submitted;
};

// A slot owns a KV cache. `tokens` are exactly the tokens whose latents are in the cache, kept
// after a request ends so the next request can reuse the longest common prefix.
struct Engine::Slot {
  Slot(const DeepseekV2& model, std::int64_t ctx) : cache(model.new_cache(ctx)) {}

  KvCache cache;
  std::vector<std::int32_t> tokens;
  std::unique_ptr<Sequence> seq;  // null: idle
  std::size_t prompt_done = 0;    // prompt tokens in the cache
  std::int32_t pending = -1;      // sampled, not yet fed
  std::vector<std::int32_t> history;
  std::optional<Sampler> sampler;
  std::optional<StreamDecoder> decoder;
  std::optional<StopMatcher> stops;
  Usage usage;
  Clock::time_point started, first_token;
  std::uint64_t last_used = 0;

  bool prefilling() const { return seq && prompt_done < seq->req.prompt.size(); }
};

Engine::Engine(DeepseekV2& model, const Tokenizer& tokenizer, EngineOptions options)
    : model_(model), tokenizer_(tokenizer), options_(options) {
  check(options_.parallel >= 1, "--parallel must be at least 1");
  check(options_.step_tokens >= 1, "step token budget must be at least 1");
  check(options_.idle_step_tokens >= 1, "idle step token budget must be at least 1");
  for (int i = 0; i < options_.parallel; ++i) slots_.push_back(std::make_unique<Slot>(model_, options_.ctx));
  stats_.slots = options_.parallel;
  thread_ = std::thread([this] { loop(); });
}

Engine::~Engine() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

std::uint64_t Engine::submit(GenerationRequest req, EventCallback on_event) {
  const std::int64_t ctx = options_.ctx, n = static_cast<std::int64_t>(req.prompt.size());
  check(n > 0, "the prompt is empty");
  for (std::int32_t t : req.prompt)
    check(t >= 0 && t < model_.config().vocab_size, "prompt token id " + std::to_string(t) + " is outside the vocabulary");
  if (req.max_tokens < 0) req.max_tokens = ctx - n;
  check(n + std::max<std::int64_t>(req.max_tokens, 1) <= ctx,
        "the prompt (" + std::to_string(n) + " tokens) plus max_tokens (" + std::to_string(req.max_tokens) +
            ") exceeds the context of " + std::to_string(ctx) + " tokens by " +
            std::to_string(n + std::max<std::int64_t>(req.max_tokens, 1) - ctx));
  req.sampling.validate();
  auto seq = std::make_unique<Sequence>();
  seq->req = std::move(req);
  seq->on_event = std::move(on_event);
  seq->submitted = Clock::now();
  std::uint64_t id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (static_cast<int>(waiting_.size()) >= options_.queue_limit)
      throw QueueFull("the request queue is full (" + std::to_string(options_.queue_limit) + " waiting)");
    id = seq->id = next_id_++;
    waiting_.push_back(std::move(seq));
    stats_.queued = static_cast<int>(waiting_.size());
  }
  cv_.notify_all();
  return id;
}

void Engine::cancel(std::uint64_t id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_.push_back(id);
  }
  cv_.notify_all();
}

GenerationEvent Engine::generate(GenerationRequest req, const EventCallback& on_event) {
  auto done = std::make_shared<std::promise<GenerationEvent>>();
  auto result = done->get_future();
  submit(std::move(req), [&on_event, done](const GenerationEvent& e) {
    const bool keep_going = on_event ? on_event(e) : true;
    if (e.done) done->set_value(e);
    return keep_going;
  });
  return result.get();
}

EngineStats Engine::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  EngineStats s = stats_;
  s.routed_experts_read = model_.routed_experts_read();
  const Config& c = model_.config();
  for (std::int64_t i = 0; i < c.num_layers; ++i) s.moe_layers += c.is_moe_layer(i) ? 1 : 0;
  return s;
}

namespace {

std::size_t common_prefix(const std::vector<std::int32_t>& a, const std::vector<std::int32_t>& b) {
  std::size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

}  // namespace

// Moves waiting requests into idle slots (called with mu_ held). The slot whose cache shares
// the longest prefix with the prompt wins; on a tie, the least recently used one.
void Engine::admit_waiting() {
  while (!waiting_.empty()) {
    Slot* best = nullptr;
    std::size_t best_lcp = 0;
    const auto& prompt = waiting_.front()->req.prompt;
    for (auto& s : slots_) {
      if (s->seq) continue;
      const std::size_t lcp = common_prefix(s->tokens, prompt);
      if (!best || lcp > best_lcp || (lcp == best_lcp && s->last_used < best->last_used)) {
        best = s.get();
        best_lcp = lcp;
      }
    }
    if (!best) return;
    // Recompute at least the last prompt token: its logits choose the first new token.
    const std::size_t reuse = std::min(best_lcp, prompt.size() - 1);
    Slot& s = *best;
    s.seq = std::move(waiting_.front());
    waiting_.pop_front();
    s.cache.truncate(static_cast<std::int64_t>(reuse));
    s.tokens.resize(reuse);
    s.prompt_done = reuse;
    s.pending = -1;
    s.history = s.seq->req.prompt;
    s.sampler.emplace(s.seq->req.sampling);
    s.decoder.emplace(tokenizer_, s.seq->req.skip_special);
    s.stops.emplace(s.seq->req.stop);
    s.usage = Usage{};
    s.usage.prompt_tokens = static_cast<std::int64_t>(prompt.size());
    s.usage.cached_tokens = static_cast<std::int64_t>(reuse);
    s.started = Clock::now();
    s.last_used = ++use_counter_;
    ++stats_.active;
    ++stats_.requests_total;
  }
  stats_.queued = static_cast<int>(waiting_.size());
}

static double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

void Engine::finish(Slot& s, FinishReason reason, const std::string& error, const std::string& stop_string) {
  GenerationEvent e;
  e.done = true;
  e.finish = reason;
  e.error = error;
  e.stop_string = stop_string;
  if (reason == FinishReason::Length || reason == FinishReason::Eos || reason == FinishReason::Timeout) {
    std::string tail = s.decoder->flush();
    StopMatcher::Result r = s.stops->feed(tail);
    e.text = r.text;
    if (r.stopped) {
      e.finish = FinishReason::Stop;
      e.stop_string = s.seq->req.stop[static_cast<std::size_t>(r.stop_index)];
    } else {
      e.text += s.stops->flush();
    }
  }
  const auto now = Clock::now();
  if (s.usage.completion_tokens == 0) s.first_token = now;
  s.usage.prompt_ms = ms_between(s.started, s.first_token);
  s.usage.generation_ms = ms_between(s.first_token, now);
  e.usage = s.usage;
  {  // before the final event: whoever it wakes must find the request counted (GET /metrics)
    std::lock_guard<std::mutex> lock(mu_);
    --stats_.active;
    stats_.prompt_tokens_total += s.usage.prompt_tokens;
    stats_.cached_tokens_total += s.usage.cached_tokens;
    stats_.generated_tokens_total += s.usage.completion_tokens;
    stats_.prompt_seconds_total += s.usage.prompt_ms / 1000.0;
    stats_.generation_seconds_total += s.usage.generation_ms / 1000.0;
  }
  // The slot is free before the callback runs, so a callback that throws cannot end it twice.
  std::unique_ptr<Sequence> seq = std::move(s.seq);
  s.pending = -1;
  seq->on_event(e);
}

// Handles a freshly sampled token: stop tokens, text with stop strings, limits, the callback.
void Engine::emit_token(Slot& s, std::int32_t token) {
  const GenerationRequest& req = s.seq->req;
  if (s.usage.completion_tokens == 0) s.first_token = Clock::now();
  if (std::find(req.stop_tokens.begin(), req.stop_tokens.end(), token) != req.stop_tokens.end()) {
    finish(s, FinishReason::Eos);
    return;
  }
  ++s.usage.completion_tokens;
  s.history.push_back(token);
  // Embedding rows past the tokenizer's vocabulary (padding) have no text: HF's decode skips them.
  const bool has_text = token < static_cast<std::int32_t>(tokenizer_.vocab_size());
  StopMatcher::Result r = s.stops->feed(has_text ? s.decoder->feed(token) : std::string());
  GenerationEvent e;
  e.text = std::move(r.text);
  e.token = token;
  if (!s.seq->on_event(e)) {
    finish(s, FinishReason::Cancelled);
  } else if (r.stopped) {
    finish(s, FinishReason::Stop, "", req.stop[static_cast<std::size_t>(r.stop_index)]);
  } else if (s.usage.completion_tokens >= req.max_tokens || s.cache.size() + 1 > s.cache.capacity()) {
    finish(s, FinishReason::Length);
  } else if (req.time_limit.count() > 0 && Clock::now() - s.started >= req.time_limit) {
    finish(s, FinishReason::Timeout);
  } else {
    s.pending = token;
  }
}

// One forward pass over every active sequence: a row per decoding sequence, then prompt chunks
// within the step budget (step_tokens while any sequence decodes, else idle_step_tokens).
// Returns false when there was nothing to do.
bool Engine::step() {
  std::vector<BatchRow>& rows = rows_;
  rows.clear();
  std::vector<Slot*>& fed = fed_;  // slots in row order, one entry per row
  fed.clear();
  for (auto& sp : slots_) {
    Slot& s = *sp;
    if (!s.seq || s.prefilling() || s.pending < 0) continue;
    rows.push_back({s.pending, s.cache.size(), &s.cache, true});
    fed.push_back(&s);
  }
  std::int64_t budget = rows.empty() ? std::max(options_.step_tokens, options_.idle_step_tokens) : options_.step_tokens;
  for (auto& sp : slots_) {
    Slot& s = *sp;
    if (!s.prefilling() || budget <= 0) continue;
    const auto& prompt = s.seq->req.prompt;
    const std::size_t n = std::min(prompt.size() - s.prompt_done, static_cast<std::size_t>(budget));
    budget -= static_cast<std::int64_t>(n);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t p = s.prompt_done + i;
      rows.push_back({prompt[p], static_cast<std::int64_t>(p), &s.cache, p + 1 == prompt.size(), true});
      fed.push_back(&s);
    }
  }
  if (rows.empty()) return false;
  std::int64_t n_logits = 0;
  for (const BatchRow& r : rows) n_logits += r.want_logits ? 1 : 0;
  const std::int64_t V = model_.config().vocab_size;
  float* logits = grow(logits_, static_cast<std::size_t>(n_logits * V));
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.steps_total;
  }
  try {
    model_.forward(rows, logits);
  } catch (const std::exception& ex) {
    for (auto& sp : slots_)
      if (sp->seq) finish(*sp, FinishReason::Error, ex.what());
    return true;
  }
  std::int64_t li = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    Slot& s = *fed[i];
    s.tokens.push_back(rows[i].token);
    if (s.prefilling()) ++s.prompt_done;
    if (!rows[i].want_logits) continue;
    const float* row = logits + (li++) * V;
    try {
      emit_token(s, s.sampler->sample({row, static_cast<std::size_t>(V)}, s.history));
    } catch (const std::exception& ex) {  // a callback or decoder failure ends only this request
      if (s.seq) finish(s, FinishReason::Error, ex.what());
    }
  }
  return true;
}

void Engine::loop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      auto busy = [this] {
        return std::any_of(slots_.begin(), slots_.end(), [](auto& s) { return s->seq != nullptr; });
      };
      cv_.wait(lock, [&] { return stop_ || !waiting_.empty() || !cancelled_.empty() || busy(); });
      if (stop_) break;
      pending_cancels_.swap(cancelled_);
      cancelled_.clear();
    }
    apply_cancels();
    {
      std::lock_guard<std::mutex> lock(mu_);
      admit_waiting();
      std::int64_t used = 0;
      for (auto& s : slots_) used += s->cache.size();
      stats_.kv_tokens_used = used;
      stats_.kv_tokens_capacity = options_.ctx * options_.parallel;
    }
    step();
  }
  // Shutting down: everything still running or waiting ends as cancelled.
  pending_cancels_.clear();
  for (auto& s : slots_)
    if (s->seq) finish(*s, FinishReason::Cancelled);
  std::deque<std::unique_ptr<Sequence>> waiting;
  {
    std::lock_guard<std::mutex> lock(mu_);
    waiting.swap(waiting_);
  }
  for (auto& seq : waiting) {
    GenerationEvent e;
    e.done = true;
    e.finish = FinishReason::Cancelled;
    seq->on_event(e);
  }
}

// Ends the cancelled requests, running or still waiting (engine thread, without mu_).
void Engine::apply_cancels() {
  for (std::uint64_t id : pending_cancels_) {
    for (auto& s : slots_)
      if (s->seq && s->seq->id == id) finish(*s, FinishReason::Cancelled);
    std::unique_ptr<Sequence> waiting;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = std::find_if(waiting_.begin(), waiting_.end(), [id](auto& q) { return q->id == id; });
      if (it != waiting_.end()) {
        waiting = std::move(*it);
        waiting_.erase(it);
        stats_.queued = static_cast<int>(waiting_.size());
      }
    }
    if (waiting) {
      GenerationEvent e;
      e.done = true;
      e.finish = FinishReason::Cancelled;
      waiting->on_event(e);
    }
  }
  pending_cancels_.clear();
}

}  // namespace dsv2
