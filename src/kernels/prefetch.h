// Internal: one software prefetch, issued exactly where the code puts it. GCC may drop
// __builtin_prefetch when it transforms a loop (GCC 12 deleted every prefetch of tile.h's
// prefetch_ahead, in every kernel, once it had a conditional third one), and a lost prefetch
// only shows as slower decode. As asm volatile it stays.
#pragma once

namespace dsv2::kernels {

// kL1: into every level (prefetcht0); otherwise into L2 and beyond (prefetcht1).
template <bool kL1>
inline void prefetch_line(const char* p) {
#if defined(__x86_64__) || defined(__i386__)
  if constexpr (kL1) asm volatile("prefetcht0 %0" : : "m"(*p));
  else asm volatile("prefetcht1 %0" : : "m"(*p));
#else
  __builtin_prefetch(p, 0, kL1 ? 3 : 2);
#endif
}

}  // namespace dsv2::kernels
