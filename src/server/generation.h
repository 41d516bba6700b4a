// One generation request in flight, bridging the engine thread (which produces events through
// a callback that must not block) and an HTTP worker thread (which waits for them and writes
// them to the client). Whichever side goes away first, the request ends: a client that
// disconnects cancels the engine request, and the engine's final event ends the response.
#pragma once
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "generate/engine.h"

namespace httplib {
struct Response;
}

namespace dsv2::server {

struct ServerContext;

// A finished request, for non-streamed responses.
struct Outcome {
  std::string text;
  std::vector<std::int32_t> tokens;  // generated ids, in order
  FinishReason finish = FinishReason::None;
  std::string stop_string;
  std::string error;
  Usage usage;
};

class Generation {
 public:
  // Submits to the engine. Throws HttpError: 400 when the engine rejects the request, 503 when
  // its queue is full or the server is shutting down.
  // max_tokens == 0 asks for the prompt to be processed (and cached) without output: the
  // engine always samples one token, so that one is dropped and the request reported as ended
  // by its length limit.
  static std::shared_ptr<Generation> start(ServerContext& ctx, GenerationRequest request);
  ~Generation();

  // The next event, waiting up to `wait`; false if none came.
  bool next(GenerationEvent& event, std::chrono::milliseconds wait);
  Outcome collect();  // waits for the end; the text of all events joined
  void cancel();      // idempotent; the engine still sends a final (Cancelled) event

  Generation(ServerContext& ctx) : ctx_(ctx) {}  // use start()

 private:
  bool on_event(const GenerationEvent& event);  // engine thread

  ServerContext& ctx_;
  std::uint64_t id_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<GenerationEvent> events_;
  bool cancelled_ = false;
  bool prompt_only_ = false;  // max_tokens == 0
  bool finished_ = false;  // the final event was queued
};

// Bytes to send for one event (may be empty); called in order, the done event last.
using EventFormatter = std::function<std::string(const GenerationEvent&)>;

// Makes res a chunked stream of the formatted events. A failed write (client gone) cancels the
// request at once; so does the response being dropped for any other reason.
void stream_events(httplib::Response& res, std::shared_ptr<Generation> gen, const char* content_type,
                   EventFormatter format);

// Unix time in seconds, for "created" fields.
std::int64_t unix_now();

}  // namespace dsv2::server
