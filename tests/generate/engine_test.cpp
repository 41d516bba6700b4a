// The engine: greedy equals the golden, batched equals sequential, prefix reuse, limits, stops,
// cancellation and the queue limit.
#include "generate/engine.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "generate/evaluate.h"
#include "model/deepseek_v2.h"
#include "support/golden.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace dsv2 {
namespace {

struct Fixture {
  test::Golden g = test::load_golden("text-bf16");
  Tokenizer tok = Tokenizer::from_hf_dir(g.model_dir);
  DeepseekV2 model{Checkpoint::open(g.model_dir), 2};
};

Fixture& fx() {
  static Fixture f;
  return f;
}

GenerationRequest greedy(std::vector<std::int32_t> prompt, std::int64_t n) {
  GenerationRequest r;
  r.prompt = std::move(prompt);
  r.max_tokens = n;
  return r;
}

struct Collected {
  std::vector<std::int32_t> tokens;
  std::string text;
  GenerationEvent last;
};

Collected run(Engine& e, GenerationRequest r) {
  Collected c;
  c.last = e.generate(std::move(r), [&](const GenerationEvent& ev) {
    if (ev.token >= 0) c.tokens.push_back(ev.token);
    c.text += ev.text;
    return true;
  });
  c.text += c.last.text;
  return c;
}

TEST(Engine, GreedyMatchesTheGolden) {
  Engine e(fx().model, fx().tok, {1, 128, 256, 4});
  Collected c = run(e, greedy(fx().g.greedy_prompt, 16));
  EXPECT_EQ(c.tokens, fx().g.greedy_continuation);
  EXPECT_EQ(c.last.finish, FinishReason::Length);
  EXPECT_EQ(c.last.usage.completion_tokens, 16);
  EXPECT_EQ(c.last.usage.prompt_tokens, static_cast<std::int64_t>(fx().g.greedy_prompt.size()));
  EXPECT_EQ(c.text, fx().tok.decode(c.tokens, true));
}

// Prompts of different lengths decoded together must give exactly the tokens they give alone.
void expect_batched_equals_sequential(DeepseekV2& model) {
  std::vector<std::vector<std::int32_t>> prompts;
  for (int i = 0; i < 4; ++i) {
    auto p = fx().g.greedy_prompt;
    p.resize(p.size() - static_cast<std::size_t>(3 * i));
    p.push_back(1000 + 17 * i);
    prompts.push_back(p);
  }
  std::vector<std::vector<std::int32_t>> sequential;
  {
    Engine e(model, fx().tok, {1, 128, 256, 8});
    for (auto& p : prompts) sequential.push_back(run(e, greedy(p, 12)).tokens);
  }
  // A small step budget throughout (prefill interleaves with decode), and a small one only while
  // some sequence decodes (the prompts that arrive together are prefilled in one step).
  for (std::int64_t idle : {7, 256}) {
    Engine e(model, fx().tok, {4, 128, 7, 8, idle});
    std::vector<std::vector<std::int32_t>> batched(prompts.size());
    std::atomic<int> done{0};
    for (std::size_t i = 0; i < prompts.size(); ++i) {
      e.submit(greedy(prompts[i], 12), [&, i](const GenerationEvent& ev) {
        if (ev.token >= 0) batched[i].push_back(ev.token);
        if (ev.done) ++done;
        return true;
      });
    }
    while (done < 4) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_EQ(batched, sequential) << "idle_step_tokens " << idle;
  }
}

TEST(Engine, BatchedEqualsSequential) { expect_batched_equals_sequential(fx().model); }

// With the expanded form for prompt rows (--prompt-attention expanded) as well: a row's form
// depends on the row, not on how the engine chunked its prompt.
TEST(Engine, BatchedEqualsSequentialWithExpandedPrompts) {
  DeepseekV2 model(Checkpoint::open(fx().g.model_dir), 2, DType::F32, /*expand_prompts=*/true);
  expect_batched_equals_sequential(model);
}

// step_tokens bounds the prompt tokens of a step only while another sequence decodes (each step
// is one of its tokens); a prompt alone goes in chunks of idle_step_tokens.
TEST(Engine, PromptChunksAreSmallOnlyWhileOthersDecode) {
  std::vector<std::int32_t> prompt40;
  for (int i = 0; i < 40; ++i) prompt40.push_back(fx().g.greedy_prompt[static_cast<std::size_t>(i) % fx().g.greedy_prompt.size()]);
  Collected alone;
  {
    Engine e(fx().model, fx().tok, {1, 128, 4, 8, 256});
    alone = run(e, greedy(prompt40, 1));
    EXPECT_EQ(e.stats().steps_total, 1);  // the whole prompt in one step
  }
  {
    Engine e(fx().model, fx().tok, {1, 128, 4, 8, 4});
    EXPECT_EQ(run(e, greedy(prompt40, 1)).tokens, alone.tokens);
    EXPECT_EQ(e.stats().steps_total, 10);
  }
  Engine e(fx().model, fx().tok, {2, 128, 4, 8, 256});
  std::atomic<int> a_tokens{0};
  std::atomic<bool> a_done{false};
  const auto& p = fx().g.greedy_prompt;
  std::uint64_t a = e.submit(greedy(p, 128 - static_cast<std::int64_t>(p.size())), [&](const GenerationEvent& ev) {
    if (ev.token >= 0) ++a_tokens;
    if (ev.done) a_done = true;
    return true;
  });
  while (a_tokens < 1) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const int before = a_tokens;
  Collected b = run(e, greedy(prompt40, 1));
  EXPECT_GE(a_tokens - before, 10);  // 40 prompt tokens, 4 a step, each step also one of a's tokens
  EXPECT_EQ(b.tokens, alone.tokens);
  e.cancel(a);
  while (!a_done) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

TEST(Engine, ReusesTheLongestCachedPrefix) {
  Engine e(fx().model, fx().tok, {2, 128, 256, 8});
  auto p = fx().g.greedy_prompt;
  Collected first = run(e, greedy(p, 4));
  EXPECT_EQ(first.last.usage.cached_tokens, 0);
  auto longer = p;
  longer.insert(longer.end(), {500, 600, 700});
  Collected second = run(e, greedy(longer, 6));
  EXPECT_EQ(second.last.usage.cached_tokens, static_cast<std::int64_t>(p.size()));
  Engine fresh(fx().model, fx().tok, {1, 128, 256, 8});
  EXPECT_EQ(run(fresh, greedy(longer, 6)).tokens, second.tokens);
  // The same prompt again: everything but the last token comes from the cache.
  Collected again = run(e, greedy(longer, 6));
  EXPECT_EQ(again.last.usage.cached_tokens, static_cast<std::int64_t>(longer.size()) - 1);
  EXPECT_EQ(again.tokens, second.tokens);
}

TEST(Engine, StopTokensAndStopStrings) {
  Engine e(fx().model, fx().tok, {1, 128, 256, 8});
  const auto& cont = fx().g.greedy_continuation;
  GenerationRequest r = greedy(fx().g.greedy_prompt, 16);
  r.stop_tokens = {cont[3]};
  Collected c = run(e, r);
  EXPECT_EQ(c.tokens, std::vector<std::int32_t>(cont.begin(), cont.begin() + 3));
  EXPECT_EQ(c.last.finish, FinishReason::Eos);

  const std::string full = fx().tok.decode(cont, true);
  const std::string stop = full.substr(full.size() / 2, 3);
  r = greedy(fx().g.greedy_prompt, 16);
  r.stop = {stop};
  c = run(e, r);
  EXPECT_EQ(c.text, full.substr(0, full.find(stop)));
  EXPECT_EQ(c.last.finish, FinishReason::Stop);
  EXPECT_EQ(c.last.stop_string, stop);
}

TEST(Engine, CallbackCancelsAndCancelById) {
  Engine e(fx().model, fx().tok, {1, 128, 256, 8});
  int seen = 0;
  GenerationEvent last = e.generate(greedy(fx().g.greedy_prompt, 16), [&](const GenerationEvent& ev) {
    return ev.done || ++seen < 2;
  });
  EXPECT_EQ(last.finish, FinishReason::Cancelled);
  EXPECT_EQ(last.usage.completion_tokens, 2);

  std::atomic<bool> finished{false};
  std::atomic<int> reason{-1};
  std::uint64_t id = e.submit(greedy(fx().g.greedy_prompt, 90), [&](const GenerationEvent& ev) {
    if (ev.done) {
      reason = static_cast<int>(ev.finish);
      finished = true;
    }
    return true;
  });
  e.cancel(id);
  while (!finished) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_EQ(reason, static_cast<int>(FinishReason::Cancelled));
  EXPECT_EQ(run(e, greedy(fx().g.greedy_prompt, 16)).tokens, fx().g.greedy_continuation);  // still healthy
}

TEST(Engine, QueueLimitAndContextErrors) {
  Engine e(fx().model, fx().tok, {1, 64, 256, 1});
  std::atomic<int> done{0};
  auto count = [&](const GenerationEvent& ev) {
    if (ev.done) ++done;
    return true;
  };
  // `a` holds the engine thread in its first callback until released, so `b` must wait.
  std::atomic<bool> a_started{false}, release{false};
  std::uint64_t a = e.submit(greedy(fx().g.greedy_prompt, 30), [&](const GenerationEvent& ev) {
    a_started = true;
    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return count(ev);
  });
  while (!a_started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::uint64_t b = e.submit(greedy(fx().g.greedy_prompt, 30), count);  // waits: the one slot is busy
  EXPECT_THROW(e.submit(greedy(fx().g.greedy_prompt, 30), count), Engine::QueueFull);
  release = true;
  e.cancel(a);
  e.cancel(b);
  try {
    e.submit(greedy(fx().g.greedy_prompt, 40), count);
    FAIL();
  } catch (const Error& ex) {
    EXPECT_NE(std::string(ex.what()).find("plus max_tokens (40) exceeds the context of 64 tokens by 8"), std::string::npos)
        << ex.what();
  }
  EXPECT_THROW(e.submit(greedy({}, 4), count), Error);
  GenerationRequest bad = greedy(fx().g.greedy_prompt, 4);
  bad.sampling.top_p = 2.0f;
  EXPECT_THROW(e.submit(bad, count), Error);
}

// The final event comes after the request is counted (a client that reads /metrics as soon as
// its response ends sees it), and a callback that throws on it does not end the request twice.
TEST(Engine, FinalEventAfterTheStats) {
  Engine e(fx().model, fx().tok, {1, 128, 256, 8});
  EngineStats at_end;
  run(e, greedy(fx().g.greedy_prompt, 5));
  std::atomic<bool> done{false};
  e.submit(greedy(fx().g.greedy_prompt, 3), [&](const GenerationEvent& ev) {
    if (!ev.done) return true;
    at_end = e.stats();
    done = true;
    throw std::runtime_error("callback failure");
  });
  while (!done) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(at_end.active, 0);
  EXPECT_EQ(at_end.requests_total, 2);
  EXPECT_EQ(at_end.generated_tokens_total, 8);
  EXPECT_EQ(run(e, greedy(fx().g.greedy_prompt, 16)).tokens, fx().g.greedy_continuation);  // still healthy
  EngineStats after = e.stats();
  EXPECT_EQ(after.active, 0);
  EXPECT_EQ(after.requests_total, 3);
  EXPECT_EQ(after.generated_tokens_total, 24);
}

TEST(Engine, SeededSamplingRepeats) {
  Engine e(fx().model, fx().tok, {2, 128, 256, 8});
  GenerationRequest r = greedy(fx().g.greedy_prompt, 12);
  r.sampling.temperature = 1.0f;
  r.sampling.seed = 42;
  r.sampling.has_seed = true;
  EXPECT_EQ(run(e, r).tokens, run(e, r).tokens);
}

}  // namespace
}  // namespace dsv2
