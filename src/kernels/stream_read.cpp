// The streaming read of the scalar level (see stream_read_impl.h).
#include "kernels/isa_impl.h"
#include "kernels/stream_read_impl.h"

namespace dsv2::kernels::scalar {

std::uint64_t stream_read(const void* data, std::size_t bytes, PrefetchDistances pf) {
  return stream_read_impl(data, bytes, pf);
}

}  // namespace dsv2::kernels::scalar
