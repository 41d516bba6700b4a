#include "generate/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <sstream>

#include "util/error.h"

namespace dsv2 {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

template <class T>
void require(bool ok, const char* rule, T got) {
  if (ok) return;
  std::ostringstream msg;
  msg << rule << ", got " << got;
  throw Error(msg.str());
}

// A total order (logit descending, then id ascending), so that every sort, nth_element and
// tie-break picks the same tokens in the same order whatever the standard library.
bool ranks_before(const Sampler::Candidate& a, const Sampler::Candidate& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

// Puts the next `count` best of c[from, n) at c[from, end), sorted; returns end.
size_t sort_next_chunk(Sampler::Candidate* c, size_t from, size_t n, size_t count) {
  const size_t end = std::min(n, from + count);
  if (end < n) std::nth_element(c + from, c + end, c + n, ranks_before);
  std::sort(c + from, c + end, ranks_before);
  return end;
}

// The first largest logit, i.e. the lowest id on ties while the buffer is in id order. A plain
// scan: the two-key comparator costs about as much again on 100k entries.
Sampler::Candidate argmax(const std::vector<Sampler::Candidate>& c, size_t n) {
  size_t best = 0;
  for (size_t i = 1; i < n; ++i) {
    if (c[i].logit > c[best].logit) best = i;
  }
  return c[best];
}

uint64_t fresh_seed() {
  std::random_device device;
  return (uint64_t{device()} << 32) ^ device();
}

}  // namespace

void SamplingParams::validate() const {
  // Written so that NaN fails every rule.
  require(temperature >= 0 && temperature < kInf, "temperature must be a finite number >= 0",
          temperature);
  require(top_k >= 0, "top_k must be >= 0 (0 = off)", top_k);
  require(top_p > 0 && top_p <= 1, "top_p must be in (0, 1]", top_p);
  require(min_p >= 0 && min_p <= 1, "min_p must be in [0, 1]", min_p);
  require(repetition_penalty > 0 && repetition_penalty < kInf,
          "repetition_penalty must be a finite number > 0", repetition_penalty);
  // The OpenAI range; beyond it the penalty swamps any logit and the model is no longer in charge.
  require(frequency_penalty >= -2 && frequency_penalty <= 2, "frequency_penalty must be in [-2, 2]",
          frequency_penalty);
  require(presence_penalty >= -2 && presence_penalty <= 2, "presence_penalty must be in [-2, 2]",
          presence_penalty);
  require(penalty_last_n >= -1, "penalty_last_n must be >= -1 (-1 = whole context)",
          penalty_last_n);
}

Sampler::Sampler(const SamplingParams& params)
    : params_(params), seed_(params.has_seed ? params.seed : fresh_seed()), rng_(seed_) {
  params_.validate();
}

int32_t Sampler::sample(std::span<const float> logits, std::span<const int32_t> history) {
  if (logits.empty()) throw Error("sampler: empty logits");  // not check(): no string per token
  load_logits(logits);
  apply_penalties(history);
  const Candidate best = argmax(cands_, kept_);
  // An infinite maximum leaves nothing to normalise: +inf forces that token, and all -inf has
  // no right answer, so both fall back to the deterministic argmax.
  if (params_.greedy() || !std::isfinite(best.logit)) {
    cands_[0] = {best.id, best.logit, 1.0f};
    kept_ = 1;
    return best.id;
  }
  apply_top_k();
  apply_top_p_min_p(best.logit);
  return draw(best.logit);
}

void Sampler::load_logits(std::span<const float> logits) {
  const size_t n = logits.size();
  if (cands_.size() < n) {  // first call, or a bigger vocab: the only allocations
    cands_.resize(n);
    counts_.resize(n, 0);
    seen_.reserve(n);
  }
  for (size_t i = 0; i < n; ++i) {
    // NaN would break the strict weak order every sort below relies on; treat it as "never".
    const float x = std::isnan(logits[i]) ? -kInf : logits[i];
    cands_[i] = {static_cast<int32_t>(i), x, 0.0f};
  }
  kept_ = n;
  sorted_ = 0;
}

void Sampler::apply_penalties(std::span<const int32_t> history) {
  const SamplingParams& p = params_;
  const bool off = p.repetition_penalty == 1 && p.frequency_penalty == 0 && p.presence_penalty == 0;
  if (off || p.penalty_last_n == 0) return;
  const size_t window = p.penalty_last_n < 0
                            ? history.size()
                            : std::min(history.size(), static_cast<size_t>(p.penalty_last_n));
  for (const int32_t id : history.last(window)) {
    if (id < 0 || static_cast<size_t>(id) >= kept_) continue;
    if (counts_[id]++ == 0) seen_.push_back(id);
  }
  for (const int32_t id : seen_) {  // cands_ is still in id order here
    float& logit = cands_[id].logit;
    // Dividing a negative logit would raise it, so CTRL multiplies those: a repeat always loses.
    logit = logit > 0 ? logit / p.repetition_penalty : logit * p.repetition_penalty;
    logit -= static_cast<float>(counts_[id]) * p.frequency_penalty + p.presence_penalty;
    counts_[id] = 0;
  }
  seen_.clear();
}

void Sampler::apply_top_k() {
  const auto k = static_cast<size_t>(params_.top_k);
  if (k == 0 || k >= kept_) return;
  sorted_ = sort_next_chunk(cands_.data(), 0, kept_, k);
  kept_ = k;
}

// min-p alone needs no order: one stable O(n) filter instead of a sort.
void Sampler::apply_top_p_min_p(float max_logit) {
  if (params_.top_p >= 1 && params_.min_p <= 0) return;
  // p_i >= min_p * p_max  <=>  logit_i >= max_logit + log(min_p); min_p = 0 gives -inf.
  const float min_logit = max_logit + std::log(params_.min_p);
  Candidate* c = cands_.data();
  if (params_.top_p >= 1) {
    const auto below = [&](const Candidate& x) { return x.logit < min_logit; };
    kept_ = static_cast<size_t>(std::remove_if(c, c + kept_, below) - c);
    return;
  }
  double total = 0;  // over what top-k kept: top-p renormalises after it
  for (size_t i = 0; i < kept_; ++i) {
    c[i].p = std::exp(c[i].logit - max_logit);  // travels with its candidate through the sorts
    total += c[i].p;
  }
  kept_ = nucleus_size(params_.top_p * total, min_logit);
}

// Both cuts keep a prefix of the candidates in rank order, and usually a short one, so sort
// lazily: a chunk at a time (nth_element + sort), growing 4x, until the cut is found. A flat
// distribution degrades to a full sort; a peaked one costs one O(vocab) pass.
size_t Sampler::nucleus_size(double mass_needed, float min_logit) {
  Candidate* c = cands_.data();
  double mass = 0;
  size_t chunk = 256;
  for (size_t i = 0; i < kept_; ++i) {
    if (i == sorted_) {
      sorted_ = sort_next_chunk(c, sorted_, kept_, chunk);
      chunk *= 4;
    }
    if (c[i].logit < min_logit) return i;  // never at i = 0: c[0] holds the max
    mass += c[i].p;
    if (mass >= mass_needed) return i + 1;
  }
  return kept_;
}

// Applies the temperature to the kept set and draws by inverting its CDF with one uniform.
int32_t Sampler::draw(float max_logit) {
  Candidate* c = cands_.data();
  const float t = params_.temperature;
  double total = 0;
  for (size_t i = 0; i < kept_; ++i) {
    // Divide rather than multiply by 1/t: a subnormal t makes 1/t infinite and 0 * inf NaN.
    c[i].p = std::exp((c[i].logit - max_logit) / t);
    total += c[i].p;
  }
  const double target = rng_.next_unit() * total;
  double cum = 0;
  size_t pick = 0;
  for (size_t i = 0; i < kept_; ++i) {
    if (c[i].p == 0) continue;
    pick = i;  // the last positive weight, should rounding carry target past the final sum
    cum += c[i].p;
    if (target < cum) break;
  }
  for (size_t i = 0; i < kept_; ++i) c[i].p = static_cast<float>(c[i].p / total);
  return c[pick].id;
}

}  // namespace dsv2
