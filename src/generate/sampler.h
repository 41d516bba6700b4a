// Token sampling: penalties, truncation (top-k, top-p, min-p), temperature, seeded draw.
//
// The pipeline follows llama.cpp's default chain, with the penalty formulas HF and OpenAI use:
//   1. repetition penalty (CTRL, Keskar et al. 2019) over the last penalty_last_n history tokens:
//      a seen token's logit is divided by the penalty when positive, multiplied when negative;
//   2. frequency/presence penalties (OpenAI): logit -= count * frequency + (count > 0) * presence;
//   3. top-k, then top-p (the smallest prefix of the sorted softmax whose mass reaches top_p,
//      renormalised over what top-k kept), then min-p (drop p < min_p * p_max);
//   4. temperature, which therefore only reshapes the kept set, and a draw from it.
// temperature == 0 is greedy: the argmax after penalties, ties to the lowest id.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "generate/rng.h"

namespace dsv2 {

struct SamplingParams {
  float temperature = 0.0f;         // 0 = greedy
  int top_k = 0;                    // 0 = off
  float top_p = 1.0f;               // 1 = off
  float min_p = 0.0f;               // 0 = off
  float repetition_penalty = 1.0f;  // 1 = off
  float frequency_penalty = 0.0f;
  float presence_penalty = 0.0f;
  int penalty_last_n = 64;  // history window for all three penalties; -1 = whole context, 0 = off
  uint64_t seed = 0;
  bool has_seed = false;  // false: seed from std::random_device (see Sampler::seed())

  bool greedy() const { return temperature == 0.0f; }
  // Throws dsv2::Error naming the first bad parameter, e.g. "top_p must be in (0, 1], got 1.5".
  void validate() const;
};

class Sampler {
 public:
  // One surviving candidate of the last sample() call.
  struct Candidate {
    int32_t id;
    float logit;  // after penalties, before temperature
    float p;      // probability it was drawn with (after truncation and temperature)
  };

  explicit Sampler(const SamplingParams& params);  // validates params

  // Picks the next token from one row of logits (vocab-sized). history holds the tokens so far
  // (prompt + generated) for the penalties; ids outside the vocab are ignored. Allocates only
  // on the first call or when the vocab grows.
  int32_t sample(std::span<const float> logits, std::span<const int32_t> history);

  // Restarts the random stream from the seed, so the same calls repeat the same tokens.
  void reset() { rng_.reseed(seed_); }

  const SamplingParams& params() const { return params_; }
  uint64_t seed() const { return seed_; }  // the one in use, drawn at construction if none given

  // The distribution the last sample() drew from (for logprobs and tests): sorted by decreasing
  // logit, ties by id, when top-k or top-p ran, else in id order; greedy leaves the one winner
  // with p = 1. Valid until the next sample() call.
  std::span<const Candidate> candidates() const { return {cands_.data(), kept_}; }

 private:
  void load_logits(std::span<const float> logits);
  void apply_penalties(std::span<const int32_t> history);
  void apply_top_k();
  void apply_top_p_min_p(float max_logit);
  size_t nucleus_size(double mass_needed, float min_logit);
  int32_t draw(float max_logit);

  SamplingParams params_;
  uint64_t seed_;
  Rng rng_;
  std::vector<Candidate> cands_;   // vocab-sized work buffer; the first kept_ are live
  size_t kept_ = 0;
  size_t sorted_ = 0;              // cands_[0, sorted_) are in rank order
  std::vector<int32_t> counts_;    // per-id occurrences in the penalty window, zero between calls
  std::vector<int32_t> seen_;      // ids with counts_ != 0, to clear them in O(window)
};

}  // namespace dsv2
