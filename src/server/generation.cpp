#include "server/generation.h"

#include <httplib.h>

#include "server/context.h"
#include "server/errors.h"
#include "util/error.h"

namespace dsv2::server {

void ActiveRequests::add(std::uint64_t id) {
  std::lock_guard lock(mu_);
  ids_.insert(id);
}

void ActiveRequests::remove(std::uint64_t id) {
  std::lock_guard lock(mu_);
  ids_.erase(id);
}

std::vector<std::uint64_t> ActiveRequests::ids() const {
  std::lock_guard lock(mu_);
  return {ids_.begin(), ids_.end()};
}

std::size_t ActiveRequests::size() const {
  std::lock_guard lock(mu_);
  return ids_.size();
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::shared_ptr<Generation> Generation::start(ServerContext& ctx, GenerationRequest request) {
  if (ctx.is_draining()) throw HttpError(503, "the server is shutting down");
  auto gen = std::make_shared<Generation>(ctx);
  gen->prompt_only_ = request.max_tokens == 0;
  std::uint64_t id = 0;
  try {
    // The callback owns a reference: the engine may report after the HTTP side has gone.
    id = ctx.engine.submit(std::move(request), [gen](const GenerationEvent& e) { return gen->on_event(e); });
  } catch (const Engine::QueueFull& e) {
    throw HttpError(503, std::string("the server is busy, try again later (") + e.what() + ")");
  } catch (const dsv2::Error& e) {
    throw bad_request(e.what());
  }
  std::lock_guard lock(gen->mu_);
  gen->id_ = id;
  if (!gen->finished_) ctx.active.add(id);
  return gen;
}

Generation::~Generation() = default;

bool Generation::on_event(const GenerationEvent& event) {
  std::lock_guard lock(mu_);
  if (prompt_only_ && !event.done) return false;  // the one sampled token is not wanted
  events_.push_back(event);
  if (prompt_only_ && !cancelled_) {
    GenerationEvent& last = events_.back();
    last.text.clear();
    last.finish = FinishReason::Length;
    last.usage.completion_tokens = 0;
  }
  if (event.done) {
    finished_ = true;
    if (id_ != 0) ctx_.active.remove(id_);
  }
  cv_.notify_all();
  return !cancelled_;
}

bool Generation::next(GenerationEvent& event, std::chrono::milliseconds wait) {
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, wait, [&] { return !events_.empty(); })) return false;
  event = std::move(events_.front());
  events_.pop_front();
  return true;
}

Outcome Generation::collect() {
  Outcome out;
  GenerationEvent e;
  for (;;) {
    if (!next(e, std::chrono::hours(1))) continue;
    out.text += e.text;
    if (e.token >= 0) out.tokens.push_back(e.token);
    if (!e.done) continue;
    out.finish = e.finish;
    out.stop_string = e.stop_string;
    out.error = e.error;
    out.usage = e.usage;
    return out;
  }
}

void Generation::cancel() {
  std::uint64_t id = 0;
  {
    std::lock_guard lock(mu_);
    if (cancelled_ || finished_) return;
    cancelled_ = true;
    id = id_;
  }
  if (id != 0) ctx_.engine.cancel(id);
}

void stream_events(httplib::Response& res, std::shared_ptr<Generation> gen, const char* content_type,
                   EventFormatter format) {
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");  // tell reverse proxies not to hold chunks back
  auto provider = [gen, format = std::move(format)](std::size_t, httplib::DataSink& sink) mutable {
    GenerationEvent e;
    while (!gen->next(e, std::chrono::milliseconds(250))) {
      if (!sink.is_writable()) {
        gen->cancel();
        return false;
      }
    }
    std::string bytes = format(e);
    if (!bytes.empty() && !sink.write(bytes.data(), bytes.size())) {
      gen->cancel();  // the client is gone: free the sequence now, not when it would have ended
      return false;
    }
    if (e.done) sink.done();
    return true;
  };
  // Runs when the response is destroyed, however the stream ended.
  auto release = [gen](bool) { gen->cancel(); };
  res.set_chunked_content_provider(content_type, std::move(provider), std::move(release));
}

}  // namespace dsv2::server
