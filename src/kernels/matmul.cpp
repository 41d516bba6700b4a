#include "kernels/matmul.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <span>
#include <vector>
#include <string>

#include "kernels/kernels.h"
#include "kernels/prefetch.h"
#include "kernels/thread_pool.h"
#include "util/error.h"

namespace dsv2 {

using kernels::ActFormat;

namespace {

// Activation rows per pass over a weight tile: 64 rows of 2048 8- or 16-bit values (~150-280 KB)
// stay in L2 while a tile of weight rows, in L1, meets each of them.
constexpr std::int64_t kRowChunk = 64;

// A 64-byte aligned buffer per calling thread that only grows, so steady-state matmuls do not
// allocate.
std::uint8_t* scratch(std::size_t bytes) {
  thread_local std::unique_ptr<std::uint8_t[]> buf;
  thread_local std::size_t cap = 0;
  if (bytes + 64 > cap) {
    cap = (bytes + 64) * 3 / 2;
    buf = std::make_unique<std::uint8_t[]>(cap);
  }
  const auto addr = reinterpret_cast<std::uintptr_t>(buf.get());
  return buf.get() + ((64 - addr % 64) % 64);
}

// The first pages of a kernel call's weights, one prefetch per 4 KiB page: a call's in-loop
// page prefetch (tile.h) runs d.page ahead of its loads, so without this the address
// translations of the call's first d.page bytes (nested page walks in a VM) are done one by one
// as the loads reach each page. Lite Q4_0, 2 threads, cold matrices, calls alternated in one
// process: o_proj 43.2 -> 40.9 us, the 16 W_UV heads 18.5 -> 18.1, W_UK 21.6 -> 21.2. (Whole
// calls' pages up front, 256 KiB or 1 MiB, were slower for o_proj.)
void prefetch_head(const Tensor& w, std::int64_t o0, std::int64_t o1) {
  const kernels::PrefetchDistances& d = kernels::prefetch_distances(w.dtype);
  if (d.page == 0) return;
  const auto* p = reinterpret_cast<const char*>(w.row(o0));
  const std::size_t n = std::min(static_cast<std::size_t>(o1 - o0) * w.row_stride(), d.page);
  for (std::size_t o = 0; o < n; o += 4096) kernels::prefetch_far(p + o, d.non_temporal);
}

struct MatmulJob {
  const Tensor* w;
  const float* x;
  std::int64_t rows;
  float* y;
  kernels::QuantizeActFn quantize;
  kernels::GemmFn gemm;
  const std::uint8_t* xq;
  std::size_t xs;  // bytes per activation row
  std::int64_t group, units_begin;  // interleaved row group; the job's first work unit (a group)
  bool converts;                    // this job converts x for every job of its activation format
};

void quantize_x(const MatmulJob& job, std::uint8_t* dst, std::int64_t r0, std::int64_t r1) {
  const std::int64_t in = job.w->cols();
  for (std::int64_t r = r0; r < r1; ++r)
    job.quantize(job.x + r * in, in, dst + static_cast<std::size_t>(r) * job.xs);
}

void gemm_rows(const MatmulJob& job, std::int64_t o0, std::int64_t o1) {
  const Tensor& w = *job.w;
  prefetch_head(w, o0, o1);
  for (std::int64_t r0 = 0; r0 < job.rows; r0 += kRowChunk) {
    const std::int64_t nx = job.rows - r0 < kRowChunk ? job.rows - r0 : kRowChunk;
    job.gemm({w.cols(), w.row(o0), w.row_stride(), o1 - o0, job.xq + static_cast<std::size_t>(r0) * job.xs,
              job.xs, nx, job.y + r0 * w.rows() + o0, w.rows()});
  }
}

// One job per product, with work units (row groups) numbered across the jobs. Products whose
// weights take the same activation format share one conversion of x, made by the first of
// them (`converts`); float32 formats read x itself. Returns the number of units.
std::int64_t plan_jobs(std::span<const MatmulOut> outs, const float* x, std::int64_t rows,
                       std::vector<MatmulJob>& jobs) {
  const kernels::KernelSet& ks = kernels::active_kernels();
  std::int64_t units = 0;
  std::size_t bytes = 0;
  for (const MatmulOut& o : outs) {
    const Tensor& w = *o.w;
    const kernels::TypeKernels& tk = ks.of(w.dtype);
    if (tk.gemm == nullptr) throw Error("matmul: unsupported weight dtype " + std::string(dtype_name(w.dtype)));
    check(w.cols() % dtype_info(w.dtype).block_size == 0, "matmul: columns not a multiple of the block size");
    check(w.cols() == outs[0].w->cols(), "matmul: products of one input must have the same width");
    MatmulJob job{&w, x, rows, o.y, ks.quantize_act[static_cast<int>(tk.act)], tk.gemm, nullptr, 0,
                  dtype_info(w.dtype).row_group, units, false};
    units += w.rows() / job.group;
    if (tk.act == ActFormat::F32) {
      job.xq = reinterpret_cast<const std::uint8_t*>(x);
      job.xs = static_cast<std::size_t>(w.cols()) * sizeof(float);
    } else {
      job.xs = kernels::act_row_bytes(tk.act, w.cols());
      job.converts = std::none_of(jobs.begin(), jobs.end(), [&](const MatmulJob& j) { return j.quantize == job.quantize; });
      if (job.converts) bytes += static_cast<std::size_t>(rows) * job.xs;
    }
    jobs.push_back(job);
  }
  // Converters get their rows of one scratch buffer; the other jobs of a format point at them.
  std::uint8_t* buf = scratch(bytes);
  for (MatmulJob& j : jobs)
    if (j.converts) j.xq = buf, buf += static_cast<std::size_t>(rows) * j.xs;
  for (MatmulJob& j : jobs)
    if (j.xq == nullptr)
      j.xq = std::find_if(jobs.begin(), jobs.end(), [&](const MatmulJob& c) { return c.converts && c.quantize == j.quantize; })->xq;
  return units;
}

void convert_inputs(std::span<const MatmulJob> jobs, std::int64_t rows, ThreadPool* pool) {
  for (const MatmulJob& j : jobs) {
    if (!j.converts) continue;
    auto* dst = const_cast<std::uint8_t*>(j.xq);
    if (pool != nullptr && rows > 1) pool->parallel_for(rows, [&](std::int64_t r0, std::int64_t r1, int) { quantize_x(j, dst, r0, r1); });
    else quantize_x(j, dst, 0, rows);
  }
}

// Work units [u0, u1) (row groups numbered across the jobs), split at job boundaries.
void run_units(std::span<const MatmulJob> jobs, std::int64_t u0, std::int64_t u1) {
  for (const MatmulJob& j : jobs) {
    const std::int64_t end = j.units_begin + j.w->rows() / j.group;
    const std::int64_t b = std::max(u0, j.units_begin), e = std::min(u1, end);
    if (b < e) gemm_rows(j, (b - j.units_begin) * j.group, (e - j.units_begin) * j.group);
  }
}

}  // namespace

void matmul_many(std::span<const MatmulOut> outs, const float* x, std::int64_t rows, ThreadPool* pool,
                 std::span<const NextRead> next) {
  if (outs.empty()) return;
  thread_local std::vector<MatmulJob> plan;  // decode must not allocate per step
  plan.clear();
  const std::int64_t units = plan_jobs(outs, x, rows, plan);
  if (rows <= 0) return;
  const std::span<const MatmulJob> jobs = plan;  // the workers' own thread_local is not this one
  convert_inputs(jobs, rows, pool);
  if (pool != nullptr) pool->parallel_for(units, [jobs](std::int64_t u0, std::int64_t u1, int) { run_units(jobs, u0, u1); }, 1, next);
  else run_units(jobs, 0, units);
}

void matmul(const Tensor& w, const float* x, std::int64_t rows, float* y, ThreadPool* pool,
            std::span<const NextRead> next) {
  const MatmulOut out{&w, y};
  matmul_many({&out, 1}, x, rows, pool, next);
}

NextRead matmul_reads(const Tensor& w) { return {w.data, w.nbytes(), w.rows() / dtype_info(w.dtype).row_group}; }

std::size_t act_row_bytes(DType w, std::int64_t cols) {
  const ActFormat act = kernels::active_kernels().of(w).act;
  return act == ActFormat::F32 ? static_cast<std::size_t>(cols) * sizeof(float) : kernels::act_row_bytes(act, cols);
}

void quantize_acts(DType w, const float* x, std::int64_t rows, std::int64_t cols, std::uint8_t* dst) {
  const kernels::KernelSet& ks = kernels::active_kernels();
  const ActFormat act = ks.of(w).act;
  const std::size_t xs = act_row_bytes(w, cols);
  for (std::int64_t r = 0; r < rows; ++r) {
    std::uint8_t* d = dst + static_cast<std::size_t>(r) * xs;
    if (act == ActFormat::F32) std::memcpy(d, x + r * cols, xs);
    else ks.quantize_act[static_cast<int>(act)](x + r * cols, cols, d);
  }
}

void matmul_part(const Tensor& w, const std::uint8_t* xq, std::int64_t rows, std::int64_t o0,
                 std::int64_t o1, float* y, std::int64_t ldy) {
  const kernels::TypeKernels& tk = kernels::active_kernels().of(w.dtype);
  const std::int64_t g = dtype_info(w.dtype).row_group;
  if (g > 1 && (o0 % g != 0 || (o1 % g != 0 && o1 != w.rows())))
    throw Error("matmul_part: rows [" + std::to_string(o0) + ", " + std::to_string(o1) + ") split an interleaved group");
  const std::size_t xs = act_row_bytes(w.dtype, w.cols());
  prefetch_head(w, o0, o1);
  for (std::int64_t r0 = 0; r0 < rows; r0 += kRowChunk) {
    const std::int64_t nx = rows - r0 < kRowChunk ? rows - r0 : kRowChunk;
    tk.gemm({w.cols(), w.row(o0), w.row_stride(), o1 - o0, xq + static_cast<std::size_t>(r0) * xs, xs, nx,
             y + r0 * ldy + o0, ldy});
  }
}

void dequantize_row(const Tensor& w, std::int64_t r, float* out) {
  const std::int64_t g = dtype_info(w.dtype).row_group;
  if (g == 1) return kernels::dequantize_row(w.dtype, w.row(r), w.cols(), out);
  thread_local std::vector<std::uint8_t> plain;  // one row in the plain layout
  plain.resize(w.row_stride());
  kernels::deinterleave_row(w.dtype, w.row(r / g * g), w.cols(), static_cast<int>(r % g), plain.data());
  kernels::dequantize_row(kernels::plain_type(w.dtype), plain.data(), w.cols(), out);
}

void quantize_rows(DType t, const float* src, std::int64_t rows, std::int64_t cols, void* dst) {
  check(cols % dtype_info(t).block_size == 0, "quantize_rows: columns not a multiple of the block size");
  const DType plain = kernels::plain_type(t);
  const std::int64_t g = dtype_info(t).row_group;
  if (rows % g != 0)  // the message is built only on failure: KV cache rows come through here per token
    throw Error("quantize_rows: " + std::string(dtype_name(t)) + " needs rows in groups of " + std::to_string(g));
  auto* out = static_cast<std::uint8_t*>(dst);
  const std::size_t rb = row_bytes(t, cols);
  std::vector<std::uint8_t> group(g > 1 ? static_cast<std::size_t>(g) * rb : 0);
  for (std::int64_t r0 = 0; r0 < rows; r0 += g) {
    std::uint8_t* o = out + static_cast<std::size_t>(r0) * rb;
    std::uint8_t* d = g > 1 ? group.data() : o;
    for (std::int64_t r = 0; r < g; ++r)
      kernels::quantize_row(plain, src + (r0 + r) * cols, cols, d + static_cast<std::size_t>(r) * rb);
    if (g > 1) kernels::interleave_rows(t, d, cols, o);
  }
}

bool interleave_in_place(Tensor& w) {
  const DType t = kernels::interleaved_type(w.dtype);
  const std::int64_t g = dtype_info(t).row_group;
  if (t == w.dtype || w.shape.size() != 2 || w.rows() % g != 0) return false;
  const std::size_t group_bytes = static_cast<std::size_t>(g) * w.row_stride();
  std::vector<std::uint8_t> plain(group_bytes);
  auto* data = static_cast<std::uint8_t*>(const_cast<void*>(w.data));  // writable: see matmul.h
  for (std::int64_t r0 = 0; r0 < w.rows(); r0 += g) {
    std::uint8_t* p = data + static_cast<std::size_t>(r0) * w.row_stride();
    std::memcpy(plain.data(), p, group_bytes);
    kernels::interleave_rows(t, plain.data(), w.cols(), p);
  }
  w.dtype = t;
  return true;
}

}  // namespace dsv2
