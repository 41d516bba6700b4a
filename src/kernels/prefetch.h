// Internal: one software prefetch, issued exactly where the code puts it. GCC may drop
// __builtin_prefetch when it transforms a loop (GCC 12 deleted every prefetch of tile.h's
// prefetch_ahead, in every kernel, once it had a conditional third one), and a lost prefetch
// only shows as slower decode. As asm volatile it stays.
#pragma once

namespace dsv2::kernels {

// Into every level (prefetcht0).
inline void prefetch_l1(const char* p) {
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("prefetcht0 %0" : : "m"(*p));
#else
  __builtin_prefetch(p, 0, 3);
#endif
}

// A prefetch well ahead of the loads: into L2 and beyond (prefetcht1), or, non_temporal, as
// prefetchnta, the hint for data read once. Weights are read once per token; on Zen 5 the
// non-temporal hint streams them 6-12% faster (kernels.h, PrefetchDistances).
inline void prefetch_far(const char* p, bool non_temporal) {
#if defined(__x86_64__) || defined(__i386__)
  if (non_temporal) asm volatile("prefetchnta %0" : : "m"(*p));
  else asm volatile("prefetcht1 %0" : : "m"(*p));
#else
  __builtin_prefetch(p, 0, non_temporal ? 0 : 2);
#endif
}

}  // namespace dsv2::kernels
