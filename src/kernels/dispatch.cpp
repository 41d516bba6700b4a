// Builds one KernelSet per ISA level and picks the active one from the CPU's features.
#include <cpuid.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "kernels/isa_impl.h"
#include "kernels/quant_impl.h"
#include "util/error.h"

namespace dsv2::kernels {

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
    case Isa::Count: break;
  }
  return "?";
}

bool isa_supported(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return true;
    case Isa::Avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             __builtin_cpu_supports("f16c") && __builtin_cpu_supports("bmi2");
    case Isa::Avx512:
      return isa_supported(Isa::Avx2) && __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vnni") &&
             __builtin_cpu_supports("avx512bf16");
    case Isa::Count: break;
  }
  return false;
}

static Isa detect_isa() {
  Isa best = Isa::Scalar;
  for (Isa i : {Isa::Avx2, Isa::Avx512})
    if (isa_supported(i)) best = i;
  if (const char* env = std::getenv("DSV2_ISA"); env != nullptr && *env != '\0') {
    for (Isa i : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
      if (std::strcmp(env, isa_name(i)) == 0) return i < best ? i : best;  // only ever lowers
    }
    throw Error(std::string("DSV2_ISA: unknown level '") + env + "' (scalar, avx2, avx512)");
  }
  return best;
}

Isa active_isa() {
  static const Isa isa = detect_isa();
  return isa;
}

PrefetchDistances parse_prefetch_distances(const char* text) {
  // A trailing ",nta" asks for the non-temporal hint; the rest is L1,L2[,PAGE].
  std::string numbers = text;
  constexpr std::string_view kNta = ",nta";
  const bool nta = numbers.size() > kNta.size() && numbers.ends_with(kNta);
  if (nta) numbers.resize(numbers.size() - kNta.size());
  const char* start = numbers.c_str();
  char* end = nullptr;
  const unsigned long l1 = std::strtoul(start, &end, 10);
  const unsigned long l2 = end != start && *end == ',' ? std::strtoul(end + 1, &end, 10) : 0;
  unsigned long page = 0;
  bool page_ok = true;
  if (*end == ',') {
    const char* page_start = end + 1;
    page = std::strtoul(page_start, &end, 10);
    page_ok = end != page_start && page <= (1ul << 20) && page % 4096 == 0;
  }
  // L1/L2 up to 64 KiB ahead in whole cache lines (L1 may be 0: none), the page prefetch up to
  // 1 MiB in whole pages: anything else is a typo.
  if (*end != '\0' || !page_ok || l2 == 0 || l1 > 65536 || l2 > 65536 || l1 % 64 != 0 || l2 % 64 != 0)
    throw Error(std::string("DSV2_PREFETCH: expected L1,L2[,PAGE][,nta] in bytes (L1, L2 multiples of 64 up to 65536, L1 may "
                            "be 0, L2 not; PAGE a multiple of 4096 up to 1048576; nta: non-temporal hint), got '") + text + "'");
  return {l1, l2, page, nta};
}

// The CPU's family as CPUID leaf 1 reports it (base + extended family): AMD Zen 4 is 0x19, Zen 5
// 0x1A.
static unsigned cpu_family() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return 0;
  const unsigned base = (eax >> 8) & 0xF;
  return base == 0xF ? base + ((eax >> 20) & 0xFF) : base;
}

// Measured on 2-core VMs, Lite Q4_0 decode and 2-thread reads (docs/benchmarks.md):
// - Intel (Sapphire Rapids-class): prefetches past ~4 KiB ahead are dropped or stall (a read:
//   29 GB/s at 6-8 KiB against 35-37 at 2-4 KiB); 1 KiB / 3 KiB decodes Q4_0 2.6-5% and Q8_0
//   4-10% faster than 1 KiB / 8 KiB.
// - Zen 4: 1 KiB / 8 KiB, Q8_0 decode 1-7% faster than 512 B / 4 KiB. For the interleaved Q4_0 /
//   Q8_0 kernels, 4 KiB into L2 alone with the non-temporal hint and no page prefetch: decode
//   tokens alternated in one process, time per token against 1 KiB / 8 KiB, Q4_0 0.81 (fast
//   host), Q8_0 0.88 (fast) and 0.95 (slow); prefetcht1 instead of prefetchnta 1.10 (Q4_0) and
//   1.26 (Q8_0), 12 KiB 1.05, 2-3 KiB alike, the page prefetch 1.09 (it helps Zen 5, not Zen 4;
//   with the spread prefetches of tile.h, Q8_0 with the host fast: 64 KiB 0.98-1.02, 32 KiB 1.03),
//   an L1 prefetch 256 B ahead as well 1.10 (Q8_0). The interleaved K-quant kernels likewise:
//   Lite Q4_K 0.86-0.91 of 1 KiB / 8 KiB, prefetchnta against prefetcht1 0.95 while the host
//   reads fast, 1.02-1.03 while it reads slowly. Q5_K_R16 and Q6_K_R16 follow Q4_K_R16; with
//   the prefetches spread over each super-block (tile.h), Lite Q5_K decode against 4 KiB nta:
//   prefetcht1 1.24, 8 KiB 0.99, 2 KiB 1.03 (Q6_K not measured). Batches of 2-8 rows (one
//   register tile) get the decode setting unmeasured: like decode, they read each weight once.
// - Zen 5 and later: an L1 prefetch slows a plain read (44 GB/s with 1 KiB into L1, 34-41 with
//   1 KiB into L1 plus 12 KiB into L2, 48-50 with 12 KiB into L2 alone). The Q4_0 kernel follows:
//   L2 alone decodes 11-17% faster than 1 KiB / 8 KiB (8-24 KiB alike). The Q8_0 kernel, with
//   twice the loads per byte (each widened to 16 bits), does not: 1 KiB / 8 KiB decodes ~6% faster.
//   A page prefetch 64 KiB ahead (tile.h) for the interleaved kernels: `dsv2 bench` tg16 with and
//   without, alternated, Q4_0 34-36 against 25-28 t/s, Q8_0 19.0 against 13.2-13.5 (32-128 KiB
//   alike). Not for the K-quant kernels, which are compute-bound here (Q4_K: 14.5-16.3 t/s with
//   it against 16.1-16.9 without), nor for Q4_K_R16, whose kernel it slows although that one
//   keeps up with memory (lm_head, 2 threads: 73-75 GB/s without, 55-56 with; decode tokens
//   alternated: 38.5 against 48.4 ms; 16 KiB ahead: no effect either way). L2 alone at 12 KiB
//   beats 1 KiB / 8 KiB there too (73 against 62-66 GB/s). Q6_K_R16 likewise (a 55 MB matrix,
//   2 threads: 55-66 GB/s without, 50-55 with); Q5_0_R16 follows Q4_0_R16 (decode tokens: 34.4
//   ms with, 37.3 without). Not measured on other CPUs, so not used there
//   (DSV2_PREFETCH=L1,L2,PAGE turns it on for all).
// - Zen 5, the non-temporal hint (prefetchnta) for the L2 and page prefetches of the interleaved
//   kernels: decode tokens alternated in one process, time per token against prefetcht1, Lite
//   Q4_0 0.86-0.90, Q8_0 0.85 (and its L1 prefetch then only costs: 0.895 with it), Q4_K_R16 and
//   Q6_K_R16 0.88-0.93 without the page prefetch, while with it they are slower than now
//   (1.03-1.2), Q5_0_R16 0.94 with it. Not measured on other CPUs, so not used there.
// - Zen 4, prompt processing (64-token batches alternated): 4 KiB into L2 alone, non-temporal,
//   takes 1.043 (Q8_0), 1.015 (Q4_0) and 1.018 (Q4_K) of the time of 1 KiB / 8 KiB, which it
//   keeps for calls of more than one register tile of rows.
static PrefetchDistances detect_prefetch(DType t, bool one_pass) {
  if (const char* env = std::getenv("DSV2_PREFETCH"); env != nullptr && *env != '\0') return parse_prefetch_distances(env);
  if (!__builtin_cpu_is("amd")) return {1024, 3072};
  const unsigned family = cpu_family();
  if (family < 0x1A) {
    const bool zen4 = family == 0x19 && __builtin_cpu_supports("avx512f");  // Zen 3: no AVX-512
    const bool interleaved = t == DType::Q4_0_R16 || t == DType::Q8_0_R16 || t == DType::Q4_K_R16;
    if (zen4 && interleaved && one_pass) return {0, 4096, 0, true};
    return {1024, 8192};
  }
  if (t == DType::Q4_0_R16 || t == DType::Q8_0_R16) return {0, 12288, kPagePrefetch, true};
  if (t == DType::Q4_K_R16) return {0, 12288, 0, true};
  return {1024, 8192};
}

// The kernel whose distances type `t` uses: 0 Q4_0_R16, 1 Q8_0_R16, 2 Q4_K_R16, 3 the rest.
static int prefetch_kernel(DType t) {
  switch (t) {
    case DType::Q4_0_R16:
    case DType::Q5_0_R16:
    case DType::Q5_1_R16: return 0;
    case DType::Q8_0_R16: return 1;
    case DType::Q4_K_R16:
    case DType::Q5_K_R16:
    case DType::Q6_K_R16: return 2;
    default: return 3;
  }
}

const PrefetchDistances& prefetch_distances(DType t, bool one_pass) {
  static const auto table = [] {
    constexpr DType kKernels[] = {DType::Q4_0_R16, DType::Q8_0_R16, DType::Q4_K_R16, DType::Q4_K};
    std::array<std::array<PrefetchDistances, 4>, 2> d{};
    for (int pass = 0; pass < 2; ++pass)
      for (int k = 0; k < 4; ++k) d[pass][k] = detect_prefetch(kKernels[k], pass == 1);
    return d;
  }();
  return table[one_pass ? 1 : 0][prefetch_kernel(t)];
}

template <class Fns>
static KernelSet make_set(Isa isa) {
  KernelSet s;
  s.isa = isa;
  auto act = [&](ActFormat f, QuantizeActFn fn) { s.quantize_act[static_cast<int>(f)] = fn; };
  auto type = [&](DType t, ActFormat f, GemmFn fn) { s.type[static_cast<int>(t)] = {f, fn}; };
  act(ActFormat::BF16, Fns::quantize_act_bf16);
  act(ActFormat::Q8_0, Fns::quantize_act_q8_0);
  act(ActFormat::Q8_K, Fns::quantize_act_q8_k);
  act(ActFormat::Q16_0, Fns::quantize_act_q16_0);
  type(DType::F32, ActFormat::F32, Fns::gemm_f32);
  type(DType::F16, ActFormat::F32, Fns::gemm_f16);
  type(DType::BF16, ActFormat::F32, Fns::gemm_bf16);
  type(DType::Q8_0, ActFormat::Q16_0, Fns::gemm_q8_0);
  type(DType::Q4_0, ActFormat::Q8_0, Fns::gemm_q4_0);
  type(DType::Q5_0, ActFormat::Q8_0, Fns::gemm_q5_0);
  type(DType::Q5_1, ActFormat::Q8_0, Fns::gemm_q5_1);
  type(DType::Q4_K, ActFormat::Q8_K, Fns::gemm_q4_k);
  type(DType::Q5_K, ActFormat::Q8_K, Fns::gemm_q5_k);
  type(DType::Q6_K, ActFormat::Q8_K, Fns::gemm_q6_k);
  type(DType::Q8_0_R16, ActFormat::Q16_0, Fns::gemm_q8_0_r16);
  type(DType::Q4_0_R16, ActFormat::Q8_0, Fns::gemm_q4_0_r16);
  type(DType::Q4_K_R16, ActFormat::Q8_K, Fns::gemm_q4_k_r16);
  type(DType::Q5_K_R16, ActFormat::Q8_K, Fns::gemm_q5_k_r16);
  type(DType::Q5_0_R16, ActFormat::Q8_0, Fns::gemm_q5_0_r16);
  type(DType::Q6_K_R16, ActFormat::Q8_K, Fns::gemm_q6_k_r16);
  type(DType::Q5_1_R16, ActFormat::Q8_0, Fns::gemm_q5_1_r16);
  s.type[static_cast<int>(DType::BF16)].dequantize_rows = Fns::dequantize_rows_bf16;
  s.type[static_cast<int>(DType::Q8_0)].dequantize_rows = Fns::dequantize_rows_q8_0;
  s.lane_dots = Fns::lane_dots;
  s.lane_softmax = Fns::lane_softmax;
  s.lane_sums = Fns::lane_sums;
  s.silu_mul = Fns::silu_mul;
  s.stream_read = Fns::stream_read;
  return s;
}

#define DSV2_ISA_FNS(ns)                                            \
  struct ns##_fns {                                                 \
    static constexpr auto quantize_act_bf16 = ns::quantize_act_bf16; \
    static constexpr auto quantize_act_q8_0 = ns::quantize_act_q8_0; \
    static constexpr auto quantize_act_q8_k = ns::quantize_act_q8_k; \
    static constexpr auto quantize_act_q16_0 = ns::quantize_act_q16_0; \
    static constexpr auto gemm_f32 = ns::gemm_f32;                  \
    static constexpr auto gemm_f16 = ns::gemm_f16;                  \
    static constexpr auto gemm_bf16 = ns::gemm_bf16;                \
    static constexpr auto gemm_q8_0 = ns::gemm_q8_0;                \
    static constexpr auto gemm_q4_0 = ns::gemm_q4_0;                \
    static constexpr auto gemm_q5_0 = ns::gemm_q5_0;                \
    static constexpr auto gemm_q5_1 = ns::gemm_q5_1;                \
    static constexpr auto gemm_q4_k = ns::gemm_q4_k;                \
    static constexpr auto gemm_q5_k = ns::gemm_q5_k;                \
    static constexpr auto gemm_q6_k = ns::gemm_q6_k;                \
    static constexpr auto gemm_q8_0_r16 = ns::gemm_q8_0_r16;        \
    static constexpr auto gemm_q4_0_r16 = ns::gemm_q4_0_r16;        \
    static constexpr auto gemm_q4_k_r16 = ns::gemm_q4_k_r16;        \
    static constexpr auto gemm_q5_k_r16 = ns::gemm_q5_k_r16;        \
    static constexpr auto gemm_q5_0_r16 = ns::gemm_q5_0_r16;        \
    static constexpr auto gemm_q6_k_r16 = ns::gemm_q6_k_r16;        \
    static constexpr auto gemm_q5_1_r16 = ns::gemm_q5_1_r16;        \
    static constexpr auto dequantize_rows_bf16 = ns::dequantize_rows_bf16; \
    static constexpr auto dequantize_rows_q8_0 = ns::dequantize_rows_q8_0; \
    static constexpr auto lane_dots = ns::lane_dots;                \
    static constexpr auto lane_softmax = ns::lane_softmax;          \
    static constexpr auto lane_sums = ns::lane_sums;                \
    static constexpr auto silu_mul = ns::silu_mul;                  \
    static constexpr auto stream_read = ns::stream_read;            \
  };
DSV2_ISA_FNS(scalar)
DSV2_ISA_FNS(avx2)
DSV2_ISA_FNS(avx512)
#undef DSV2_ISA_FNS

const KernelSet& kernel_set(Isa isa) {
  static const KernelSet sets[] = {make_set<scalar_fns>(Isa::Scalar), make_set<avx2_fns>(Isa::Avx2),
                                   make_set<avx512_fns>(Isa::Avx512)};
  if (!isa_supported(isa)) throw Error(std::string("kernel_set: CPU lacks ") + isa_name(isa));
  return sets[static_cast<int>(isa)];
}

void quantize_row(DType t, const float* src, std::int64_t n, void* dst) {
  switch (t) {
    case DType::F32: std::memcpy(dst, src, static_cast<std::size_t>(n) * 4); return;
    case DType::F16:
    case DType::BF16: {
      auto* h = static_cast<std::uint16_t*>(dst);
      for (std::int64_t i = 0; i < n; ++i) h[i] = t == DType::F16 ? f32_to_f16(src[i]) : f32_to_bf16(src[i]);
      return;
    }
    case DType::Q8_0: quantize_row_q8_0(src, n, dst); return;
    case DType::Q4_0: quantize_row_q4_0(src, n, dst); return;
    case DType::Q5_0: quantize_row_q5_0(src, n, dst); return;
    case DType::Q5_1: quantize_row_q5_1(src, n, dst); return;
    case DType::Q4_K: quantize_row_q4_k(src, n, dst); return;
    case DType::Q5_K: quantize_row_q5_k(src, n, dst); return;
    case DType::Q6_K: quantize_row_q6_k(src, n, dst); return;
    default: break;
  }
  throw Error(std::string("quantize_row: unsupported dtype ") + std::string(dtype_name(t)));
}

void dequantize_row(DType t, const void* src, std::int64_t n, float* dst) {
  if (const DequantizeRowsFn f = active_kernels().of(t).dequantize_rows) return f({src, 0, 1, n, dst, n});  // BF16, Q8_0
  switch (t) {
    case DType::F32: std::memcpy(dst, src, static_cast<std::size_t>(n) * 4); return;
    case DType::F16: {
      const auto* h = static_cast<const std::uint16_t*>(src);
      for (std::int64_t i = 0; i < n; ++i) dst[i] = f16_to_f32(h[i]);
      return;
    }
    case DType::Q4_0: dequantize_row_q4_0(src, n, dst); return;
    case DType::Q5_0: dequantize_row_q5_0(src, n, dst); return;
    case DType::Q5_1: dequantize_row_q5_1(src, n, dst); return;
    case DType::Q4_K: dequantize_row_q4_k(src, n, dst); return;
    case DType::Q5_K: dequantize_row_q5_k(src, n, dst); return;
    case DType::Q6_K: dequantize_row_q6_k(src, n, dst); return;
    default: break;
  }
  throw Error(std::string("dequantize_row: unsupported dtype ") + std::string(dtype_name(t)));
}

}  // namespace dsv2::kernels
