// The weighted row sum (attention's sum of cached values) for the avx2 level.
#include "kernels/isa_impl.h"
#include "kernels/weighted_sum_impl.h"

namespace dsv2::kernels::avx2 {

void weighted_sum(const WeightedSumArgs& args) { weighted_sum_impl(args); }

}  // namespace dsv2::kernels::avx2
