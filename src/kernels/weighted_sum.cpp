// The weighted row sum (attention's sum of cached values) for the scalar level.
#include "kernels/isa_impl.h"
#include "kernels/weighted_sum_impl.h"

namespace dsv2::kernels::scalar {

void weighted_sum(const WeightedSumArgs& args) { weighted_sum_impl(args); }

}  // namespace dsv2::kernels::scalar
