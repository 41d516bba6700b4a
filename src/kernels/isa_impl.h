// Internal: the per-ISA kernel entry points the dispatcher (dispatch.cpp) puts in its tables.
// Each ISA lives in its own namespace so code built with different -m flags never shares a symbol.
#pragma once
#include "kernels/kernels.h"

#define DSV2_DECLARE_ISA_KERNELS                                            \
  void gemm_f32(const GemmArgs&);                                           \
  void gemm_f16(const GemmArgs&);                                           \
  void gemm_bf16(const GemmArgs&);                                          \
  void gemm_q8_0(const GemmArgs&);                                          \
  void gemm_q4_0(const GemmArgs&);                                          \
  void gemm_q5_0(const GemmArgs&);                                          \
  void gemm_q5_1(const GemmArgs&);                                          \
  void gemm_q4_k(const GemmArgs&);                                          \
  void gemm_q5_k(const GemmArgs&);                                          \
  void gemm_q6_k(const GemmArgs&);                                          \
  void gemm_q8_0_r16(const GemmArgs&);                                      \
  void gemm_q4_0_r16(const GemmArgs&);                                      \
  void gemm_q4_k_r16(const GemmArgs&);                                      \
  void gemm_q5_k_r16(const GemmArgs&);                                      \
  void gemm_q5_0_r16(const GemmArgs&);                                      \
  void gemm_q6_k_r16(const GemmArgs&);                                      \
  void gemm_q5_1_r16(const GemmArgs&);                                      \
  void quantize_act_bf16(const float* x, std::int64_t n, void* dst);        \
  void quantize_act_q8_0(const float* x, std::int64_t n, void* dst);        \
  void quantize_act_q8_k(const float* x, std::int64_t n, void* dst);        \
  void quantize_act_q16_0(const float* x, std::int64_t n, void* dst);       \
  void dequantize_rows_bf16(const DequantizeRowsArgs&);                      \
  void dequantize_rows_q8_0(const DequantizeRowsArgs&);                      \
  void lane_dots(const LaneDotsArgs&);                                      \
  void lane_softmax(const LaneSoftmaxArgs&);                                \
  void lane_sums(const LaneSumsArgs&);                                      \
  void silu_mul(float* gate, const float* up, std::int64_t n);              \
  std::uint64_t stream_read(const void* data, std::size_t bytes, PrefetchDistances pf);

namespace dsv2::kernels {
namespace scalar { DSV2_DECLARE_ISA_KERNELS }
namespace avx2 { DSV2_DECLARE_ISA_KERNELS }
namespace avx512 { DSV2_DECLARE_ISA_KERNELS }
}  // namespace dsv2::kernels

#undef DSV2_DECLARE_ISA_KERNELS
