// The dequantizers of dequantize_impl.h at the scalar level: the reference (dequantize_row).
#include "kernels/dequantize_impl.h"
#include "kernels/isa_impl.h"

namespace dsv2::kernels::scalar {
DSV2_DEQUANTIZE_ENTRY_POINTS
}  // namespace dsv2::kernels::scalar
