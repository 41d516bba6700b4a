// The kernel table: for every weight DType, how activations are converted and which function
// computes dot products of weight rows with activation rows, per instruction-set level. The
// best level the CPU supports is picked once at start-up; env DSV2_ISA=scalar|avx2|avx512 caps it.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/blocks.h"
#include "tensor/dtype.h"

namespace dsv2::kernels {

enum class Isa : std::uint8_t { Scalar, Avx2, Avx512, Count };
const char* isa_name(Isa isa);

// y[j * ldy + i] = dot(weight row i, activation row j) for i < nw, j < nx; n values per row.
struct GemmArgs {
  std::int64_t n;
  const std::uint8_t* w;
  std::size_t w_stride;
  std::int64_t nw;
  const std::uint8_t* x;
  std::size_t x_stride;
  std::int64_t nx;
  float* y;
  std::int64_t ldy;
};
using GemmFn = void (*)(const GemmArgs&);


// Kernels over nq query vectors held one per SIMD lane (query_lanes*.cpp), for products with
// rows of floats where each row meets every query (attention: the rows are cached keys/values,
// the queries the heads). No output needs a horizontal sum: a row value is broadcast and meets
// all queries at once. Each output is computed by fma in a fixed order (dots: two chains, over
// even and odd d, then their sum; sums: one chain over the rows), so all ISAs give bit-identical
// results whatever the split of rows, queries or columns between calls.
// Dots: y[r * ldy + q] = sum over d < n of rows[r * ldr + d] * qt[d * ldq + q], for r < nr and
// q < nq (qt holds the queries transposed: element d of every query is one contiguous run).
struct LaneDotsArgs {
  const float* rows;
  std::int64_t ldr, nr, n;
  const float* qt;
  std::int64_t ldq, nq;
  float* y;
  std::int64_t ldy;
};
using LaneDotsFn = void (*)(const LaneDotsArgs&);
// Softmax down each column: for q < nq, x[r * ldx + q] over r < nr becomes softmax(scale * x)
// (max subtracted, float32, exp by lane_exp below).
struct LaneSoftmaxArgs {
  float* x;
  std::int64_t ldx, nr, nq;
  float scale;
};
using LaneSoftmaxFn = void (*)(const LaneSoftmaxArgs&);
// The exp of LaneSoftmax at every level, as scalar code (within 2 ulp of exp for x <= 0; 0
// below -87.5, where exp is subnormal).
float lane_exp(float x);
// gate[i] = silu(gate[i]) * up[i] for i < n, silu(g) = g * sigmoid(g) with the sigmoid from
// e = lane_exp(-|g|): 1 / (1 + e) for g >= 0, e / (1 + e) below, so exp never overflows (silu of
// g < -87.5 is -0). One exp per value at every level, bit-identical across levels.
using SiluMulFn = void (*)(float* gate, const float* up, std::int64_t n);
// Weighted sums: y[q * ldy + c] = sum over r < nr of p[r * ldp + q] * rows[r * ldr + c], for
// q < nq and c < n (p holds one weight per row and query, in the layout LaneDots writes).
// resume: y already holds the sums over earlier rows and each output's fma chain continues from
// it, so rows fed in several calls give exactly the result of one call over all of them.
struct LaneSumsArgs {
  const float* rows;
  std::int64_t ldr, nr, n;
  const float* p;
  std::int64_t ldp, nq;
  float* y;
  std::int64_t ldy;
  bool resume = false;
};
using LaneSumsFn = void (*)(const LaneSumsArgs&);
using QuantizeActFn = void (*)(const float* x, std::int64_t n, void* dst);

// How far ahead (bytes) a streaming kernel prefetches into L1 and L2; l1 == 0: no L1 prefetch,
// only L2 (likewise l2 == 0 for the bandwidth probe). page != 0: also one prefetch per 4 KiB
// page, that far ahead, so each page's address translation is under way before the L1/L2
// prefetches reach it (tile.h). non_temporal: the L2 and page prefetches are prefetchnta, the
// hint for data read once (prefetch.h): on a Zen 5 VM, Lite Q4_0 decode 6-12% faster, and a
// plain read ~10% faster, than with prefetcht1 (docs/benchmarks.md).
struct PrefetchDistances {
  std::size_t l1, l2, page = 0;
  bool non_temporal = false;
};
// The page distance where the CPU uses one (dispatch.cpp), and the bandwidth probe's.
inline constexpr std::size_t kPagePrefetch = 65536;

// n values (whole blocks) of each of `rows` rows stored as some type, to floats: row r at
// src + r * stride bytes, to dst + r * ldd; meanwhile prefetches the `rows` rows after them (a
// caller walking down a matrix in pieces finds the next piece on its way).
struct DequantizeRowsArgs {
  const void* src;
  std::size_t stride;
  std::int64_t rows, n;
  float* dst;
  std::int64_t ldd;
};
using DequantizeRowsFn = void (*)(const DequantizeRowsArgs&);

struct TypeKernels {
  ActFormat act = ActFormat::F32;
  GemmFn gemm = nullptr;  // nullptr: the dtype has no matmul kernel (I32, I64)
  // The KV cache's stored types (BF16, Q8_0) at this level, for attention; nullptr elsewhere,
  // where dequantize_row uses the reference code. Conversions are exact, so levels agree.
  DequantizeRowsFn dequantize_rows = nullptr;
};

struct KernelSet {
  Isa isa = Isa::Scalar;
  QuantizeActFn quantize_act[static_cast<int>(ActFormat::Count)] = {};
  TypeKernels type[kDTypeCount] = {};  // by DType
  LaneDotsFn lane_dots = nullptr;
  LaneSoftmaxFn lane_softmax = nullptr;
  LaneSumsFn lane_sums = nullptr;
  SiluMulFn silu_mul = nullptr;
  // Sum of `bytes` bytes read with the level's widest loads, prefetching `pf` ahead: a
  // read-bandwidth probe.
  std::uint64_t (*stream_read)(const void* data, std::size_t bytes, PrefetchDistances pf) = nullptr;
  const TypeKernels& of(DType t) const { return type[static_cast<int>(t)]; }
};

// The distances of the streaming kernel for weight type `t`, picked once per process from the CPU
// and the kernel (what was measured where: dispatch.cpp): Q4_0_R16 (and Q5_0/Q5_1_R16), Q8_0_R16 and
// Q4_K_R16 (and Q5_K/Q6_K_R16) have their own, every other type (plain layouts) a fourth set.
// `one_pass`: the call's activation rows fit one register tile, so it reads each weight once
// (decode) and wants what a plain read wants; with more (prompt processing) the kernel reads each
// block again from L1 for every tile of rows and is compute-bound — on Zen 4 the two differ. Env
// DSV2_PREFETCH=L1,L2[,PAGE][,nta] sets them all.
const PrefetchDistances& prefetch_distances(DType t, bool one_pass = true);
PrefetchDistances parse_prefetch_distances(const char* text);  // "L1,L2[,PAGE][,nta]"; throws Error naming DSV2_PREFETCH

bool isa_supported(Isa isa);     // CPU (and build) can run it
Isa active_isa();                // best supported, capped by DSV2_ISA; fixed after the first call
const KernelSet& kernel_set(Isa isa);  // isa must be supported
inline const KernelSet& active_kernels() { return kernel_set(active_isa()); }

// Row-interleaved compute layouts (blocks.h): interleaved_type(Q4_0) = Q4_0_R16 and
// interleaved_type(Q8_0) = Q8_0_R16, any other type maps to itself; plain_type is the inverse.
// interleave_rows turns kRowGroup consecutive plain rows of n values (src) into one group (dst,
// same size, not overlapping src); deinterleave_row writes row r of a group back as a plain row.
DType interleaved_type(DType t);
DType plain_type(DType t);
void interleave_rows(DType interleaved, const void* src, std::int64_t n, void* dst);
void deinterleave_row(DType interleaved, const void* group, std::int64_t n, int r, void* dst);

// Weight rows: float -> blocks (reference quantizers, used by converters and tests) and back.
void quantize_row(DType t, const float* src, std::int64_t n, void* dst);
void dequantize_row(DType t, const void* src, std::int64_t n, float* dst);

}  // namespace dsv2::kernels
