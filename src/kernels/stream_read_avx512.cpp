// The streaming read of the avx512 level (see stream_read_impl.h).
#include "kernels/isa_impl.h"
#include "kernels/stream_read_impl.h"

namespace dsv2::kernels::avx512 {

std::uint64_t stream_read(const void* data, std::size_t bytes, PrefetchDistances pf) {
  return stream_read_impl(data, bytes, pf);
}

}  // namespace dsv2::kernels::avx512
