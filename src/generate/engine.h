// The generation engine: a scheduler that runs many sequences through one model with continuous
// batching. Every step is one forward pass over all active sequences: one row per decoding
// sequence plus chunks of pending prompts (bounded by a per-step token budget, so a long prompt
// never stalls the others; the budget is larger when no sequence is decoding, since then nobody
// waits on the step). Finished sequences keep their KV cache; a new request takes the idle
// slot whose cached tokens share the longest prefix with its prompt and recomputes only the rest.
//
// The CLI (run / infill / chat) and the HTTP server both generate through this one class.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "generate/sampler.h"
#include "model/batch.h"

namespace dsv2 {

class DeepseekV2;
class Tokenizer;

struct EngineOptions {
  int parallel = 1;                  // sequence slots, each with its own KV cache
  std::int64_t ctx = 4096;           // context length per slot (prompt + generated tokens)
  // Prompt tokens processed per step, across all sequences, while some sequence is decoding: a
  // step's time is every decoder's time per token, and prompt processing is compute-bound from a
  // few dozen tokens per step on, so small chunks cost the prompt little (DeepSeek-V2-Lite Q4_0,
  // 1 thread: 32.5 prompt t/s in chunks of 64 vs 33.3 in chunks of 256).
  std::int64_t step_tokens = 64;
  int queue_limit = 64;              // waiting requests beyond the slots; more -> QueueFull
  // Prompt tokens per step while no sequence is decoding (at least step_tokens): larger chunks
  // read the weights fewer times, and no one waits on the step.
  std::int64_t idle_step_tokens = 256;
};

enum class FinishReason { None, Length, Stop, Eos, Cancelled, Timeout, Error };
const char* finish_reason_name(FinishReason r);  // "length", "stop", ... (OpenAI's words)

struct GenerationRequest {
  std::vector<std::int32_t> prompt;      // token ids, BOS included if wanted
  SamplingParams sampling;
  std::int64_t max_tokens = -1;          // -1: until the context is full
  std::vector<std::string> stop;         // stop strings (not included in the output)
  std::vector<std::int32_t> stop_tokens; // EOS and friends (not included in the output)
  std::chrono::milliseconds time_limit{0};  // 0: none
  bool skip_special = true;              // decode special tokens as empty text
};

struct Usage {
  std::int64_t prompt_tokens = 0, cached_tokens = 0, completion_tokens = 0;
  double prompt_ms = 0, generation_ms = 0;
};

// One streamed piece of a request's output; the last one has done = true.
struct GenerationEvent {
  std::string text;                // newly completed UTF-8 text (may be empty)
  std::int32_t token = -1;         // the token that produced it (-1 on the final event)
  bool done = false;
  FinishReason finish = FinishReason::None;
  std::string stop_string;         // the stop string that ended it, if any
  std::string error;               // set when finish == Error
  Usage usage;
};

// Called on the engine thread; return false to cancel the request.
using EventCallback = std::function<bool(const GenerationEvent&)>;

struct EngineStats {
  std::int64_t requests_total = 0, prompt_tokens_total = 0, cached_tokens_total = 0,
               generated_tokens_total = 0;
  double prompt_seconds_total = 0, generation_seconds_total = 0;
  std::int64_t steps_total = 0;  // forward passes run
  // Routed experts read over all steps and MoE layers (DeepseekV2::routed_experts_read): per
  // step and layer, how many of the experts the batch's tokens chose were distinct.
  std::int64_t routed_experts_read = 0, moe_layers = 0;
  int active = 0, queued = 0, slots = 0;
  std::int64_t kv_tokens_used = 0, kv_tokens_capacity = 0;
};

class Engine {
 public:
  Engine(DeepseekV2& model, const Tokenizer& tokenizer, EngineOptions options);
  ~Engine();  // cancels what is running and joins the scheduler thread
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Thread-safe. Validates the request (throws Error naming the problem: empty prompt, prompt +
  // max_tokens over the context, bad sampling parameter) and queues it; throws QueueFull when the
  // queue is at its limit. Returns an id for cancel().
  std::uint64_t submit(GenerationRequest request, EventCallback on_event);
  void cancel(std::uint64_t id);  // thread-safe; the final event says Cancelled
  // Runs a request to completion on the calling thread's behalf (blocks until done).
  GenerationEvent generate(GenerationRequest request, const EventCallback& on_event);

  EngineStats stats() const;
  const EngineOptions& options() const { return options_; }
  const Tokenizer& tokenizer() const { return tokenizer_; }
  DeepseekV2& model() { return model_; }

  struct QueueFull : std::runtime_error {
    using std::runtime_error::runtime_error;
  };

 private:
  struct Sequence;
  struct Slot;
  void loop();
  void admit_waiting();
  bool step();
  void apply_cancels();
  void finish(Slot& slot, FinishReason reason, const std::string& error = "",
              const std::string& stop_string = "");
  void emit_token(Slot& slot, std::int32_t token);

  DeepseekV2& model_;
  const Tokenizer& tokenizer_;
  EngineOptions options_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::deque<std::unique_ptr<Sequence>> waiting_;
  std::vector<std::uint64_t> cancelled_, pending_cancels_;
  // Step buffers, reused so steady-state decoding allocates nothing per step.
  std::vector<BatchRow> rows_;
  std::vector<Slot*> fed_;
  std::vector<float> logits_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::uint64_t next_id_ = 1, use_counter_ = 0;
  EngineStats stats_;
  std::thread thread_;
};

}  // namespace dsv2
