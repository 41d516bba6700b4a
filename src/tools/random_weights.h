// Deterministic random weights for synthetic checkpoints. Every value is a pure function of
// (seed, tensor name, element index) — splitmix64 used as a counter-based generator — so the
// output is the same however the work is chunked or split across threads, and a tensor's values
// do not depend on which other tensors the model has.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tensor/dtype.h"

namespace dsv2::tools {

// Values are uniform on [center - half_width, center + half_width).
struct WeightInit {
  float center = 0.0f;
  float half_width = 0.0f;
};

// The init the golden fixtures use: 1-D tensors (RMSNorm weights) near 1, the embedding with
// unit variance, every linear [out, in] with std 1/sqrt(in) so activations keep their scale.
WeightInit weight_init(const std::string& name, const std::vector<std::int64_t>& shape);

// The generator's stream for one tensor.
std::uint64_t tensor_seed(std::uint64_t seed, const std::string& name);

// Elements [first, first + count) of the tensor, converted to dtype (F32, F16 or BF16) and stored
// at out, which must hold count elements of dtype.
void fill_weights(const WeightInit& init, std::uint64_t stream, std::uint64_t first,
                  std::uint64_t count, DType dtype, std::uint8_t* out);

}  // namespace dsv2::tools
