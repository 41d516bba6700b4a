#include "generate/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

#include "generate/rng.h"
#include "util/error.h"

namespace dsv2 {
namespace {

SamplingParams seeded(float temperature, uint64_t seed = 1234) {
  SamplingParams p;
  p.temperature = temperature;
  p.seed = seed;
  p.has_seed = true;
  return p;
}

std::vector<double> softmax(const std::vector<float>& logits, double temperature = 1.0) {
  const double m = *std::max_element(logits.begin(), logits.end());
  std::vector<double> p;
  for (float l : logits) p.push_back(std::exp((l - m) / temperature));
  const double z = std::accumulate(p.begin(), p.end(), 0.0);
  for (double& x : p) x /= z;
  return p;
}

// Logits whose softmax is exactly `probs` (up to float rounding).
std::vector<float> logits_of(const std::vector<double>& probs) {
  std::vector<float> l;
  for (double p : probs) l.push_back(static_cast<float>(std::log(p)));
  return l;
}

std::vector<float> random_logits(size_t n, uint64_t seed, float scale) {
  Rng rng(seed);
  std::vector<float> l(n);
  for (float& x : l) x = static_cast<float>((rng.next_unit() * 2 - 1) * scale);
  return l;
}

std::vector<int32_t> ids_of(const Sampler& s) {
  std::vector<int32_t> ids;
  for (const auto& c : s.candidates()) ids.push_back(c.id);
  return ids;
}

std::vector<float> logits_after_penalties(const SamplingParams& p, const std::vector<float>& logits,
                                          const std::vector<int32_t>& history) {
  SamplingParams q = p;
  q.temperature = 1;  // no truncation: candidates() is the whole vocab in id order
  Sampler s(q);
  s.sample(logits, history);
  std::vector<float> out;
  for (const auto& c : s.candidates()) out.push_back(c.logit);
  return out;
}

int32_t argmax(const std::vector<float>& l) {
  return static_cast<int32_t>(std::max_element(l.begin(), l.end()) - l.begin());  // first max
}

// ---- RNG ------------------------------------------------------------------------------------

TEST(Rng, MatchesReferenceXoshiro256StarStar) {
  // Reference values from an independent implementation of splitmix64 seeding + xoshiro256**.
  Rng rng(0);
  EXPECT_EQ(rng.next_u64(), 0x99ec5f36cb75f2b4ull);
  EXPECT_EQ(rng.next_u64(), 0xbf6e1f784956452aull);
  EXPECT_EQ(rng.next_u64(), 0x1a5f849d4933e6e0ull);
  Rng rng42(42);
  EXPECT_EQ(rng42.next_u64(), 0x15780b2e0c2ec716ull);
  EXPECT_DOUBLE_EQ(rng42.next_unit(), 0.3789802506626686);
}

TEST(Rng, UnitIsInHalfOpenInterval) {
  Rng rng(7);
  for (int i = 0; i < 100000; ++i) {
    const double u = rng.next_unit();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

// ---- greedy ---------------------------------------------------------------------------------

TEST(Sampler, GreedyIsArgmaxWithLowestIdOnTies) {
  Sampler s(SamplingParams{});
  EXPECT_EQ(s.sample(std::vector<float>{1, 5, 3, 5}, {}), 1);
  EXPECT_EQ(s.sample(std::vector<float>{-2, -2, -2}, {}), 0);
  EXPECT_EQ(s.sample(std::vector<float>{-1, -3, 7}, {}), 2);
  for (uint64_t seed = 0; seed < 20; ++seed) {
    const auto l = random_logits(1000, seed, 10);
    EXPECT_EQ(s.sample(l, {}), argmax(l));
  }
}

TEST(Sampler, GreedyIgnoresTruncationAndAppliesPenalties) {
  SamplingParams p;
  p.top_k = 3;
  p.top_p = 0.1f;
  p.repetition_penalty = 1.1f;  // 2 / 1.1 = 1.82 < 1.9: the repeated token loses the argmax
  Sampler s(p);
  EXPECT_EQ(s.sample(std::vector<float>{2.0f, 1.9f}, {}), 0);
  EXPECT_EQ(s.sample(std::vector<float>{2.0f, 1.9f}, std::vector<int32_t>{0}), 1);
}

TEST(Sampler, TemperatureToZeroApproachesGreedy) {
  auto l = random_logits(500, 3, 5);
  l[argmax(l)] += 0.1f;  // a margin of 0.1: at t = 1e-3 a runner-up has odds below e^-100
  for (float t : {1e-3f, 1e-5f, 1e-30f, 1e-40f /* subnormal */}) {
    Sampler s(seeded(t));
    for (int i = 0; i < 200; ++i) ASSERT_EQ(s.sample(l, {}), argmax(l)) << "t=" << t;
  }
  // Tied maxima split the mass evenly however cold.
  Sampler s(seeded(1e-6f));
  s.sample(std::vector<float>{3, 1, 3}, {});
  ASSERT_EQ(s.candidates().size(), 3u);
  EXPECT_FLOAT_EQ(s.candidates()[0].p, 0.5f);
  EXPECT_FLOAT_EQ(s.candidates()[1].p, 0.0f);
  EXPECT_FLOAT_EQ(s.candidates()[2].p, 0.5f);
}

TEST(Sampler, TopK1EqualsGreedy) {
  SamplingParams p = seeded(1.5f);
  p.top_k = 1;
  Sampler s(p);
  for (uint64_t seed = 0; seed < 50; ++seed) {
    const auto l = random_logits(2000, seed, 1);
    EXPECT_EQ(s.sample(l, {}), argmax(l));
  }
  EXPECT_EQ(s.sample(std::vector<float>{0, 4, 4, 1}, {}), 1);  // tie: lowest id
}

TEST(Sampler, TopKKeepsTheKBestRenormalised) {
  SamplingParams p = seeded(1);
  p.top_k = 3;
  Sampler s(p);
  const std::vector<float> l = {0.5f, 2.0f, -1.0f, 1.0f, 2.0f, 0.0f};
  s.sample(l, {});
  EXPECT_EQ(ids_of(s), (std::vector<int32_t>{1, 4, 3}));
  const auto expect = softmax({2.0f, 2.0f, 1.0f});
  for (size_t i = 0; i < 3; ++i) EXPECT_NEAR(s.candidates()[i].p, expect[i], 1e-6);
}

// ---- top-p / min-p on hand-computed distributions ---------------------------------------------

// p = {0.15, 0.05, 0.5, 0.3} for ids 0..3: the sorted order is 2, 3, 0, 1.
const std::vector<double> kProbs = {0.15, 0.05, 0.5, 0.3};

std::vector<int32_t> kept_by_top_p(float top_p, int top_k = 0) {
  SamplingParams p = seeded(1);
  p.top_p = top_p;
  p.top_k = top_k;
  Sampler s(p);
  s.sample(logits_of(kProbs), {});
  return ids_of(s);
}

TEST(Sampler, TopPKeepsTheMinimalNucleus) {
  EXPECT_EQ(kept_by_top_p(0.4f), (std::vector<int32_t>{2}));         // 0.5 >= 0.4
  EXPECT_EQ(kept_by_top_p(0.75f), (std::vector<int32_t>{2, 3}));     // 0.8 >= 0.75
  EXPECT_EQ(kept_by_top_p(0.85f), (std::vector<int32_t>{2, 3, 0}));  // 0.95 >= 0.85
  EXPECT_EQ(kept_by_top_p(0.99f), (std::vector<int32_t>{2, 3, 0, 1}));
  EXPECT_EQ(kept_by_top_p(1e-6f), (std::vector<int32_t>{2}));  // at least one survives
}

TEST(Sampler, TopPRenormalisesTheNucleus) {
  SamplingParams p = seeded(1);
  p.top_p = 0.75f;
  Sampler s(p);
  s.sample(logits_of(kProbs), {});
  EXPECT_NEAR(s.candidates()[0].p, 0.5 / 0.8, 1e-6);
  EXPECT_NEAR(s.candidates()[1].p, 0.3 / 0.8, 1e-6);
}

TEST(Sampler, TopPIsRelativeToWhatTopKKept) {
  // After top-k = 2 the mass is 0.5/0.8 = 0.625 and 0.375: top_p = 0.6 needs only the first.
  EXPECT_EQ(kept_by_top_p(0.6f, 2), (std::vector<int32_t>{2}));
  EXPECT_EQ(kept_by_top_p(0.6f, 0), (std::vector<int32_t>{2, 3}));
}

std::vector<int32_t> kept_by_min_p(float min_p) {
  SamplingParams p = seeded(1);
  p.min_p = min_p;
  Sampler s(p);
  s.sample(logits_of(kProbs), {});
  return ids_of(s);
}

TEST(Sampler, MinPDropsTokensBelowAFractionOfTheTop) {
  // min-p alone leaves the survivors in id order.
  EXPECT_EQ(kept_by_min_p(0.2f), (std::vector<int32_t>{0, 2, 3}));  // threshold 0.1
  EXPECT_EQ(kept_by_min_p(0.5f), (std::vector<int32_t>{2, 3}));     // threshold 0.25
  EXPECT_EQ(kept_by_min_p(0.7f), (std::vector<int32_t>{2}));        // threshold 0.35
  EXPECT_EQ(kept_by_min_p(1.0f), (std::vector<int32_t>{2}));
  EXPECT_EQ(kept_by_min_p(0.05f), (std::vector<int32_t>{0, 1, 2, 3}));
}

TEST(Sampler, MinPAndTopPTogetherKeepTheShorterPrefix) {
  SamplingParams p = seeded(1);
  p.top_p = 0.99f;  // alone: all four
  p.min_p = 0.5f;   // alone: two
  Sampler s(p);
  s.sample(logits_of(kProbs), {});
  EXPECT_EQ(ids_of(s), (std::vector<int32_t>{2, 3}));
}

TEST(Sampler, MinPAfterTopKKeepsRankOrder) {
  SamplingParams p = seeded(1);
  p.top_k = 3;
  p.min_p = 0.2f;
  Sampler s(p);
  s.sample(logits_of(kProbs), {});
  EXPECT_EQ(ids_of(s), (std::vector<int32_t>{2, 3, 0}));
}

// The lazy chunked sort must find the same cut as a full sort, also past the first chunks.
TEST(Sampler, TruncationOnFullVocabMatchesAFullSort) {
  const auto l = random_logits(102400, 11, 3);  // flat-ish: the nucleus spans many chunks
  std::vector<int32_t> order(l.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return l[a] > l[b]; });
  const auto probs = softmax(l);
  for (float top_p : {0.3f, 0.9f, 0.999f}) {
    size_t n = 0;
    for (double mass = 0; mass < top_p;) mass += probs[order[n++]];
    SamplingParams p = seeded(1);
    p.top_p = top_p;
    Sampler s(p);
    s.sample(l, {});
    ASSERT_NEAR(static_cast<double>(s.candidates().size()), static_cast<double>(n), 1)
        << "top_p=" << top_p;  // +-1 for where float summation crosses top_p
    const size_t common = std::min(n, s.candidates().size());
    EXPECT_TRUE(std::equal(order.begin(), order.begin() + common, ids_of(s).begin()));
  }
}

// ---- penalties ------------------------------------------------------------------------------

const std::vector<float> kLogits = {2.0f, -2.0f, 1.0f, 0.5f};
const std::vector<int32_t> kHistory = {0, 1, 0, 3, 0};  // counts: id0 x3, id1 x1, id3 x1

TEST(Sampler, RepetitionPenaltyDividesPositiveAndMultipliesNegative) {
  SamplingParams p;
  p.repetition_penalty = 2;
  EXPECT_EQ(logits_after_penalties(p, kLogits, kHistory), (std::vector<float>{1, -4, 1, 0.25f}));
}

TEST(Sampler, FrequencyPenaltyScalesWithCount) {
  SamplingParams p;
  p.frequency_penalty = 0.5f;
  EXPECT_EQ(logits_after_penalties(p, kLogits, kHistory), (std::vector<float>{0.5f, -2.5f, 1, 0}));
}

TEST(Sampler, PresencePenaltyIsFlat) {
  SamplingParams p;
  p.presence_penalty = 0.25f;
  EXPECT_EQ(logits_after_penalties(p, kLogits, kHistory),
            (std::vector<float>{1.75f, -2.25f, 1, 0.25f}));
}

TEST(Sampler, PenaltiesComposeRepetitionFirst) {
  SamplingParams p;
  p.repetition_penalty = 2;
  p.frequency_penalty = 0.5f;
  p.presence_penalty = 0.25f;
  // id0: 2/2 - 3*0.5 - 0.25; id1: -2*2 - 0.5 - 0.25; id3: 0.5/2 - 0.5 - 0.25
  EXPECT_EQ(logits_after_penalties(p, kLogits, kHistory),
            (std::vector<float>{-0.75f, -4.75f, 1, -0.5f}));
}

TEST(Sampler, PenaltyWindowCoversOnlyTheLastNTokens) {
  SamplingParams p;
  p.frequency_penalty = 1;
  p.penalty_last_n = 2;  // sees {3, 0}
  EXPECT_EQ(logits_after_penalties(p, kLogits, kHistory), (std::vector<float>{1, -2, 1, -0.5f}));
  p.penalty_last_n = -1;  // the whole history
  EXPECT_EQ(logits_after_penalties(p, kLogits, kHistory), (std::vector<float>{-1, -3, 1, -0.5f}));
  p.penalty_last_n = 0;  // off
  EXPECT_EQ(logits_after_penalties(p, kLogits, kHistory), kLogits);
  p.penalty_last_n = 100;  // longer than the history
  EXPECT_EQ(logits_after_penalties(p, kLogits, kHistory), (std::vector<float>{-1, -3, 1, -0.5f}));
}

TEST(Sampler, PenaltiesIgnoreIdsOutsideTheVocab) {
  SamplingParams p;
  p.presence_penalty = 1;
  EXPECT_EQ(logits_after_penalties(p, kLogits, {-1, 4, 99, 2}), (std::vector<float>{2, -2, 0, 0.5f}));
}

TEST(Sampler, PenaltiesDoNotLeakIntoTheNextCall) {
  SamplingParams p;
  p.frequency_penalty = 1;
  Sampler s(p);
  EXPECT_EQ(s.sample(kLogits, std::vector<int32_t>{0, 0, 0}), 2);
  EXPECT_EQ(s.sample(kLogits, {}), 0);
}

// ---- randomness -----------------------------------------------------------------------------

std::vector<int32_t> draw_sequence(Sampler& s, const std::vector<float>& l, int n) {
  std::vector<int32_t> out;
  for (int i = 0; i < n; ++i) out.push_back(s.sample(l, {}));
  return out;
}

TEST(Sampler, SameSeedSameSequence) {
  const std::vector<float> flat(1000, 0.0f);
  Sampler a(seeded(1, 99)), b(seeded(1, 99)), c(seeded(1, 100));
  const auto seq = draw_sequence(a, flat, 100);
  EXPECT_EQ(seq, draw_sequence(b, flat, 100));
  EXPECT_NE(seq, draw_sequence(c, flat, 100));
  a.reset();
  EXPECT_EQ(seq, draw_sequence(a, flat, 100));
  EXPECT_GT(std::set<int32_t>(seq.begin(), seq.end()).size(), 50u);  // actually random
}

TEST(Sampler, FixedSeedGivesAFixedSequence) {
  // Pins the whole path (RNG, uniform conversion, CDF walk) against silent changes.
  const std::vector<float> flat(1000, 0.0f);
  Sampler s(seeded(1, 0));
  // Uniforms for seed 0 start 0.60126..., 0.74777..., 0.10301...; flat over 1000: floor(u*1000).
  EXPECT_EQ(draw_sequence(s, flat, 3), (std::vector<int32_t>{601, 747, 103}));
}

TEST(Sampler, UnseededSamplersReportTheirSeed) {
  Sampler a(SamplingParams{.temperature = 1}), b(SamplingParams{.temperature = 1});
  EXPECT_NE(a.seed(), b.seed());
  Sampler replay(seeded(1, a.seed()));
  const std::vector<float> flat(1000, 0.0f);
  EXPECT_EQ(draw_sequence(a, flat, 20), draw_sequence(replay, flat, 20));
}

// Pearson's chi-square against the expected counts; 1e-3 critical values by degrees of freedom.
double chi_square(const std::map<int32_t, int>& counts, const std::vector<double>& probs, int n) {
  double chi2 = 0;
  for (size_t id = 0; id < probs.size(); ++id) {
    const double expect = probs[id] * n;
    const auto it = counts.find(static_cast<int32_t>(id));
    const double got = it == counts.end() ? 0 : it->second;
    chi2 += (got - expect) * (got - expect) / expect;
  }
  return chi2;
}

TEST(Sampler, FrequenciesMatchTheSoftmax) {
  const std::vector<float> l = {1.0f, 0.2f, -0.5f, 2.0f, 0.0f, -1.5f, 1.2f, 0.7f};
  const float t = 0.8f;
  Sampler s(seeded(t, 2024));
  const int n = 200000;
  std::map<int32_t, int> counts;
  for (int i = 0; i < n; ++i) ++counts[s.sample(l, {})];
  // df = 7: P(chi2 > 24.32) = 0.001 for a correct sampler; a wrong temperature gives thousands.
  EXPECT_LT(chi_square(counts, softmax(l, t), n), 24.32);
}

TEST(Sampler, TruncatedFrequenciesMatchTheRenormalisedSoftmax) {
  SamplingParams p = seeded(1.3f, 77);
  p.top_k = 6;
  p.top_p = 0.9f;
  Sampler s(p);
  const std::vector<float> l = {1.0f, 0.2f, -0.5f, 2.0f, 0.0f, -1.5f, 1.2f, 0.7f};
  const int n = 100000;
  std::map<int32_t, int> counts;
  for (int i = 0; i < n; ++i) ++counts[s.sample(l, {})];
  std::vector<double> expect(l.size(), 0.0);
  for (const auto& c : s.candidates()) expect[c.id] = c.p;
  std::vector<float> kept_logits;  // check the reported p against temperature on the kept set
  for (const auto& c : s.candidates()) kept_logits.push_back(c.logit);
  const auto ref = softmax(kept_logits, 1.3);
  for (size_t i = 0; i < ref.size(); ++i) EXPECT_NEAR(s.candidates()[i].p, ref[i], 1e-6);
  for (const auto& [id, count] : counts) EXPECT_GT(expect[id], 0) << "drew a truncated id " << id;
  std::vector<double> kept_probs;
  std::map<int32_t, int> kept_counts;
  for (const auto& c : s.candidates()) {
    kept_counts[static_cast<int32_t>(kept_probs.size())] = counts[c.id];
    kept_probs.push_back(c.p);
  }
  // top-k 6 leaves ids 3 6 0 7 1 4 with mass .418 .188 .154 .114 .069 .057: 0.9 needs five.
  ASSERT_EQ(ids_of(s), (std::vector<int32_t>{3, 6, 0, 7, 1}));
  EXPECT_LT(chi_square(kept_counts, kept_probs, n), 18.47);  // df = 4
}

// ---- odd logits and validation --------------------------------------------------------------

TEST(Sampler, NanIsNeverPickedAndInfinityIsForced) {
  const float nan = std::nanf("");
  const float inf = std::numeric_limits<float>::infinity();
  Sampler s(seeded(1));
  for (int i = 0; i < 100; ++i) ASSERT_NE(s.sample(std::vector<float>{nan, 0, nan}, {}), 0);
  EXPECT_EQ(s.sample(std::vector<float>{0, inf, 5}, {}), 1);
  EXPECT_EQ(s.sample(std::vector<float>{-inf, -inf}, {}), 0);
  EXPECT_THROW(s.sample(std::vector<float>{}, {}), Error);
}

std::string validation_error(SamplingParams p) {
  try {
    p.validate();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(SamplingParams, ValidationNamesTheParameter) {
  EXPECT_EQ(validation_error({}), "");
  EXPECT_EQ(validation_error({.top_p = 1.5f}), "top_p must be in (0, 1], got 1.5");
  EXPECT_EQ(validation_error({.top_p = 0}), "top_p must be in (0, 1], got 0");
  EXPECT_EQ(validation_error({.temperature = -1}), "temperature must be a finite number >= 0, got -1");
  EXPECT_EQ(validation_error({.temperature = std::nanf("")}),
            "temperature must be a finite number >= 0, got nan");
  EXPECT_EQ(validation_error({.top_k = -3}), "top_k must be >= 0 (0 = off), got -3");
  EXPECT_EQ(validation_error({.min_p = 2}), "min_p must be in [0, 1], got 2");
  EXPECT_EQ(validation_error({.repetition_penalty = 0}),
            "repetition_penalty must be a finite number > 0, got 0");
  EXPECT_EQ(validation_error({.frequency_penalty = 2.5f}),
            "frequency_penalty must be in [-2, 2], got 2.5");
  EXPECT_EQ(validation_error({.presence_penalty = -3}), "presence_penalty must be in [-2, 2], got -3");
  EXPECT_EQ(validation_error({.penalty_last_n = -2}),
            "penalty_last_n must be >= -1 (-1 = whole context), got -2");
  EXPECT_THROW(Sampler(SamplingParams{.top_p = 2}), Error);
}

}  // namespace
}  // namespace dsv2
