#include <gtest/gtest.h>

#include <set>
#include <string>

#include "kernels/kernels.h"
#include "kernels/tile.h"
#include "util/error.h"

namespace dsv2::kernels {
namespace {

TEST(Prefetch, ParsesL1CommaL2) {
  const PrefetchDistances d = parse_prefetch_distances("512,4096");
  EXPECT_EQ(d.l1, 512u);
  EXPECT_EQ(d.l2, 4096u);
}

TEST(Prefetch, ParsesAnOptionalPageDistance) {
  EXPECT_EQ(parse_prefetch_distances("1024,8192").page, 0u);
  const PrefetchDistances d = parse_prefetch_distances("0,12288,65536");
  EXPECT_EQ(d.l1, 0u);
  EXPECT_EQ(d.l2, 12288u);
  EXPECT_EQ(d.page, 65536u);
  EXPECT_EQ(parse_prefetch_distances("1024,3072,0").page, 0u);
  EXPECT_EQ(parse_prefetch_distances("1024,3072,1048576").page, 1048576u);
}

TEST(Prefetch, ParsesAnOptionalNonTemporalHint) {
  EXPECT_FALSE(parse_prefetch_distances("0,12288,65536").non_temporal);
  const PrefetchDistances d = parse_prefetch_distances("0,12288,65536,nta");
  EXPECT_TRUE(d.non_temporal);
  EXPECT_EQ(d.l2, 12288u);
  EXPECT_EQ(d.page, 65536u);
  const PrefetchDistances e = parse_prefetch_distances("1024,8192,nta");
  EXPECT_TRUE(e.non_temporal);
  EXPECT_EQ(e.l1, 1024u);
  EXPECT_EQ(e.page, 0u);
}

TEST(Prefetch, RejectsMalformedValuesNamingTheVariable) {
  for (const char* bad : {"", "1024", "1024,", ",3072", "1000,3072", "1024,3000", "1024,0", "1024,131072",
                          "1024,3072,", "1024;3072", "x,3072", "-64,3072", "1024,3072,1000", "1024,3072,2097152",
                          "1024,3072,4096,", "1024,3072,-4096", "1024,3072,x",
                          "nta", ",nta", "1024,nta", "1024,3072,nta,", "1024,3072,NTA", "1024,3072,nta,nta",
                          "1024,3072,4096,nta,"}) {
    try {
      parse_prefetch_distances(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("DSV2_PREFETCH"), std::string::npos) << e.what();
    }
  }
}

TEST(Prefetch, ZeroL1MeansL2Only) {
  const PrefetchDistances d = parse_prefetch_distances("0,12288");
  EXPECT_EQ(d.l1, 0u);
  EXPECT_EQ(d.l2, 12288u);
}

TEST(Prefetch, ActiveDistancesAreWholeLinesAhead) {
  for (DType t : {DType::Q4_0_R16, DType::Q8_0_R16, DType::Q4_K, DType::Q6_K}) {
    const PrefetchDistances& d = prefetch_distances(t);
    EXPECT_GT(d.l2, 0u);
    EXPECT_GE(d.l2, d.l1);  // L2 prefetches run further ahead than L1 ones (or alone)
    EXPECT_EQ(d.l1 % 64, 0u);
    EXPECT_EQ(d.l2 % 64, 0u);
    EXPECT_EQ(d.page % 4096, 0u);
  }
}

// A block's prefetches may be issued in parts (tile.h): over all parts, every line that starts
// inside the block must come exactly once, whatever the block's size and alignment.
TEST(Prefetch, BlockPartsCoverEachLineOnce) {
  for (std::size_t size : {std::size_t{288}, std::size_t{544}, std::size_t{2304}, std::size_t{2816}, std::size_t{3360}})
    for (std::uintptr_t a = 4096; a < 4096 + 64; a += 16)
      for (int parts : {1, 2, 3, 4, 8}) {
        std::set<std::uintptr_t> seen;
        std::size_t count = 0;
        for (int k = 0; k < parts; ++k) {
          const LineSpan s = part_lines(a, size, k, parts);
          EXPECT_EQ(s.first % 64, 0u);
          for (std::uintptr_t l = s.first; l < s.end; l += 64) seen.insert(l), ++count;
        }
        std::set<std::uintptr_t> want;
        for (std::uintptr_t l = (a + 63) / 64 * 64; l < a + size; l += 64) want.insert(l);
        EXPECT_EQ(count, want.size()) << "size " << size << " at " << a % 64 << ", " << parts << " parts";
        EXPECT_EQ(seen, want) << "size " << size << " at " << a % 64 << ", " << parts << " parts";
      }
}

}  // namespace
}  // namespace dsv2::kernels
