// Element types of tensors. Quantized types are stored in blocks laid out bit-compatibly with
// GGUF (ggml): a row of n values is n / block_size blocks of block_bytes each.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dsv2 {

// The *_R16 types are compute layouts, never in files: the blocks of 16 consecutive rows
// interleaved (kernels/blocks.h), made in memory at load time because the kernels read them with
// no horizontal sums. A group of 16 rows takes exactly the bytes of 16 plain rows.
enum class DType : std::uint8_t {
  F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K, I32, I64, Q8_0_R16, Q4_0_R16, Q4_K_R16, Q5_0, Q5_1,
  Q5_0_R16, Q6_K_R16, Q5_1_R16, Q5_K_R16
};
inline constexpr int kDTypeCount = static_cast<int>(DType::Q5_K_R16) + 1;  // the last one above

struct DTypeInfo {
  std::string_view name;
  std::int64_t block_size;   // values per block (1 for plain types)
  std::size_t block_bytes;   // bytes per block (per row: interleaved groups hold row_group of them)
  std::int64_t row_group;    // rows stored interleaved (1: rows are contiguous)
};

const DTypeInfo& dtype_info(DType t);
inline std::string_view dtype_name(DType t) { return dtype_info(t).name; }
// "f32", "q4_k", ... (case-insensitive); compute-only layouts (row_group > 1) are not names users give.
bool dtype_from_name(std::string_view name, DType* out);
bool dtype_is_quantized(DType t);

// Bytes used by a row of n values; n must be a multiple of the block size.
std::size_t row_bytes(DType t, std::int64_t n);

// bf16 / f16 <-> f32 conversions used across the code base (exact, round-to-nearest-even).
float bf16_to_f32(std::uint16_t v);
std::uint16_t f32_to_bf16(float f);
float f16_to_f32(std::uint16_t v);
std::uint16_t f32_to_f16(float f);

}  // namespace dsv2
