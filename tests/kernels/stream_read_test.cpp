#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/kernels.h"
#include "test_util.h"

namespace dsv2::kernels {
namespace {

// What stream_read_impl sums: the 64-bit words of whole 256-byte steps (wrapping), then the
// bytes of the tail.
std::uint64_t reference_sum(const std::uint8_t* p, std::size_t n) {
  const std::size_t whole = n / 256 * 256;
  std::uint64_t s = 0;
  for (std::size_t i = 0; i < whole; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    s += w;
  }
  for (std::size_t i = whole; i < n; ++i) s += p[i];
  return s;
}

// The bandwidth probe must read every byte exactly once whatever the ISA level, the length
// (whole 256-byte steps, a tail, less than one step) and the prefetch scheme (prefetches only
// hint: they must not change what is summed, nor touch memory past the end under ASan).
TEST(StreamRead, SumsEveryByteOnceForEveryLevelAndPrefetchScheme) {
  std::vector<std::uint8_t> data(20000);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 131 + 7);
  for (Isa isa : test::supported_levels()) {
    const auto read = kernel_set(isa).stream_read;
    for (const PrefetchDistances pf : {PrefetchDistances{1024, 0}, PrefetchDistances{0, 12288}, PrefetchDistances{1024, 3072},
                                       PrefetchDistances{0, 12288, 65536}, PrefetchDistances{0, 12288, 65536, true}}) {
      for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{255}, std::size_t{256}, std::size_t{4133}, data.size()}) {
        const std::uint64_t want = reference_sum(data.data(), n);
        EXPECT_EQ(read(data.data(), n, pf), want) << isa_name(isa) << " n=" << n << " pf=" << pf.l1 << "," << pf.l2;
      }
    }
  }
}

}  // namespace
}  // namespace dsv2::kernels
