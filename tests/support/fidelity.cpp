#include "support/fidelity.h"

#include <algorithm>
#include <cmath>

namespace dsv2::test {

namespace {

// In double: the KL of near-identical distributions is a difference of nearly equal numbers.
std::vector<double> log_softmax(const float* x, std::int64_t n) {
  double m = *std::max_element(x, x + n), s = 0;
  for (std::int64_t i = 0; i < n; ++i) s += std::exp(x[i] - m);
  std::vector<double> out(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) out[static_cast<std::size_t>(i)] = x[i] - m - std::log(s);
  return out;
}

}  // namespace

Fidelity compare_logits(const std::vector<float>& ref, const std::vector<float>& q, std::int64_t vocab) {
  const std::int64_t T = static_cast<std::int64_t>(ref.size()) / vocab;
  Fidelity f;
  for (std::int64_t t = 0; t < T; ++t) {
    const float* a = ref.data() + t * vocab;
    const float* b = q.data() + t * vocab;
    f.top1 += std::max_element(a, a + vocab) - a == std::max_element(b, b + vocab) - b;
    const std::vector<double> la = log_softmax(a, vocab), lb = log_softmax(b, vocab);
    for (std::size_t i = 0; i < la.size(); ++i) f.mean_kl += std::exp(la[i]) * (la[i] - lb[i]);
  }
  f.top1 /= static_cast<double>(T);
  f.mean_kl /= static_cast<double>(T);
  return f;
}

}  // namespace dsv2::test
