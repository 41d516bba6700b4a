#include "tools/random_weights.h"

#include <cmath>
#include <cstring>

#include "util/error.h"

namespace dsv2::tools {

namespace {

constexpr std::uint64_t kGamma = 0x9E3779B97F4A7C15ull;  // splitmix64's increment

constexpr std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// The k-th output of a splitmix64 generator started at `stream`, mapped to [-1, 1).
inline float uniform_pm1(std::uint64_t stream, std::uint64_t k) {
  std::uint64_t z = mix64(stream + (k + 1) * kGamma);
  return static_cast<float>(z >> 40) * (2.0f / 16777216.0f) - 1.0f;  // 24 bits: exact in float
}

template <typename Store>
void fill(const WeightInit& w, std::uint64_t stream, std::uint64_t first, std::uint64_t count,
          Store store) {
  for (std::uint64_t i = 0; i < count; ++i)
    store(i, w.center + w.half_width * uniform_pm1(stream, first + i));
}

}  // namespace

WeightInit weight_init(const std::string& name, const std::vector<std::int64_t>& shape) {
  const float sqrt3 = std::sqrt(3.0f);          // a uniform on [-a, a) has std a / sqrt(3)
  if (shape.size() == 1) return {1.0f, 0.05f};  // every 1-D tensor here is an RMSNorm weight
  if (name == "model.embed_tokens.weight") return {0.0f, sqrt3};
  check(shape.size() == 2 && shape[1] > 0, "tensor '" + name + "': expected a 2-D linear weight");
  return {0.0f, sqrt3 / std::sqrt(static_cast<float>(shape[1]))};
}

std::uint64_t tensor_seed(std::uint64_t seed, const std::string& name) {
  std::uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a of the name, then mixed with the seed
  for (unsigned char c : name) h = (h ^ c) * 0x100000001b3ull;
  return mix64(mix64(seed) ^ h);
}

void fill_weights(const WeightInit& init, std::uint64_t stream, std::uint64_t first,
                  std::uint64_t count, DType dtype, std::uint8_t* out) {
  switch (dtype) {
    case DType::F32:
      fill(init, stream, first, count,
           [out](std::uint64_t i, float v) { std::memcpy(out + 4 * i, &v, 4); });
      return;
    case DType::BF16:
    case DType::F16: {
      auto convert = dtype == DType::BF16 ? f32_to_bf16 : f32_to_f16;
      fill(init, stream, first, count, [out, convert](std::uint64_t i, float v) {
        std::uint16_t h = convert(v);
        std::memcpy(out + 2 * i, &h, 2);
      });
      return;
    }
    default:
      throw Error("random weights: unsupported dtype " + std::string(dtype_name(dtype)));
  }
}

}  // namespace dsv2::tools
