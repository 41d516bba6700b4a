// Random-weight models built in memory at any weight type, for benchmarks before (and besides)
// quantized model files: the synth generator's float32 values are quantized row by row into
// owned buffers as they stream in, so peak memory is the quantized model plus one window.
#pragma once
#include <cstdint>
#include <memory>

#include "model/checkpoint.h"
#include "tensor/dtype.h"

namespace dsv2::tools {

// Every 2-D weight matrix becomes `weight_type` (when its row length allows the block size);
// norm vectors and the MoE router stay float32 (small, and llama.cpp's quantizers keep them so).
std::unique_ptr<Checkpoint> synth_quantized(const Config& config, DType weight_type,
                                            std::uint64_t seed = 0, int threads = 0);

}  // namespace dsv2::tools
