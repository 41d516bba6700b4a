// The dequantizers of dequantize_impl.h at the avx512 level.
#include "kernels/dequantize_impl.h"
#include "kernels/isa_impl.h"

namespace dsv2::kernels::avx512 {
DSV2_DEQUANTIZE_ENTRY_POINTS
}  // namespace dsv2::kernels::avx512
