// How closely one set of logits follows a reference (quantized weights or KV cache against f32):
// the measures behind issue 4's quality bar and docs/benchmarks.md's fidelity tables.
#pragma once
#include <cstdint>
#include <vector>

namespace dsv2::test {

struct Fidelity {
  double top1 = 0, mean_kl = 0;  // top-1 agreement with the reference, mean KL(ref || q)
};

// ref and q are [positions, vocab] logits; every position counts once.
Fidelity compare_logits(const std::vector<float>& ref, const std::vector<float>& q, std::int64_t vocab);

}  // namespace dsv2::test
