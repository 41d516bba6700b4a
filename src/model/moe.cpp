#include "model/moe.h"

#include <algorithm>
#include <cstring>

#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "kernels/thread_pool.h"
#include "model/batch.h"

namespace dsv2 {

void mlp_forward(const MlpWeights& w, const float* x, std::int64_t T, float* out, MlpScratch& s,
                 ThreadPool& pool, std::span<const NextRead> next) {
  const std::int64_t I = w.gate.rows();
  float* g = grow(s.gate, static_cast<std::size_t>(T * I));
  float* u = grow(s.up, static_cast<std::size_t>(T * I));
  const MatmulOut gate_up[] = {{&w.gate, g}, {&w.up, u}};
  const NextRead down = matmul_reads(w.down);
  matmul_many(gate_up, x, T, &pool, {&down, 1});
  silu_mul(g, u, T * I);
  matmul(w.down, g, T, out, &pool, next);
}

StepReads mlp_first_reads(const MlpWeights& w) {
  StepReads reads;
  reads.add(matmul_reads(w.gate));
  reads.add(matmul_reads(w.up));
  return reads;
}

StepReads moe_first_reads(const MoeWeights& w) {
  StepReads reads;
  reads.add(matmul_reads(w.router));
  if (w.has_shared) reads.add(matmul_reads(w.shared.gate)), reads.add(matmul_reads(w.shared.up));
  return reads;
}

namespace {

// Output rows per work unit, the grain of the split between threads: small enough that a decode
// step's ~8 experts split evenly over them (a thread's claimed units of one expert then run as
// one kernel call).
constexpr std::int64_t kUnit = 64;

std::int64_t units(std::int64_t rows) { return (rows + kUnit - 1) / kUnit; }

// A routed expert's gate+up work units: its gate rows', then as many of its up rows'.
std::int64_t gate_up_units_of(std::int64_t hidden_rows) { return 2 * units(hidden_rows); }

std::int64_t hidden(const ExpertTask& t) { return t.w->gate.rows(); }

// Buckets batch rows by expert and lists the experts used, ascending. Only the buckets used last
// time are emptied: a decode step uses 6 of 64, and touching all of them cost ~2 us of cache
// misses per layer (the weights streamed since evict them).
void group_by_expert(const Config& c, std::int64_t T, MoeScratch& s) {
  for (const std::int32_t e : s.used) s.rows_of[static_cast<std::size_t>(e)].clear(), s.weight_of[static_cast<std::size_t>(e)].clear();
  s.used.clear();
  const auto E = static_cast<std::size_t>(c.n_routed_experts);
  if (s.rows_of.size() != E || T > s.bucket_rows) {
    // Room for every row in every bucket, so an expert chosen for the first time does not allocate.
    s.rows_of.resize(E), s.weight_of.resize(E), s.used.reserve(E);
    for (auto& r : s.rows_of) r.reserve(static_cast<std::size_t>(T));
    for (auto& wt : s.weight_of) wt.reserve(static_cast<std::size_t>(T));
    s.bucket_rows = std::max(s.bucket_rows, T);
  }
  const std::int64_t k = s.routing.top_k;
  for (std::int64_t t = 0; t < T; ++t) {
    for (std::int64_t j = 0; j < k; ++j) {
      const std::int32_t e = s.routing.experts[static_cast<std::size_t>(t * k + j)];
      auto& rows = s.rows_of[static_cast<std::size_t>(e)];
      if (rows.empty()) s.used.push_back(e);
      rows.push_back(static_cast<std::int32_t>(t));
      s.weight_of[static_cast<std::size_t>(e)].push_back(s.routing.weights[static_cast<std::size_t>(t * k + j)]);
    }
  }
  std::sort(s.used.begin(), s.used.end());
}

const std::vector<std::int32_t>& rows_of(const ExpertTask& t, const MoeScratch& s) {
  return t.expert < 0 ? s.all_rows : s.rows_of[static_cast<std::size_t>(t.expert)];
}

// Appends a task; its buffers follow the previous task's (s.next). A routed task reads its
// gate's activation rows from the batch's rows quantized once (offset 0 of xq) when it sees every
// row in order in that format (decode: every task); otherwise it gathers and quantizes its own.
void add_task(MoeScratch& s, const MlpWeights& mw, std::int64_t expert, std::int64_t n, std::int64_t T,
              std::int64_t H) {
  ExpertTask t = s.next;
  const std::int64_t I = mw.gate.rows();
  t.w = &mw, t.expert = expert, t.n = n;
  // The shared experts' gate+up run with the router (in matmul_many): no units, no inputs here.
  const bool routed = expert >= 0;
  t.gathers = routed && (n != T || mw.gate.dtype != s.batch_dtype);
  if (routed) s.next.units_begin += gate_up_units_of(I);
  if (routed && !t.gathers) t.xq = 0;
  if (t.gathers) s.next.xq += static_cast<std::size_t>(n) * act_row_bytes(mw.gate.dtype, H);
  s.next.hq += static_cast<std::size_t>(n) * act_row_bytes(mw.down.dtype, I);
  s.next.h += static_cast<std::size_t>(n * I * 2);  // gate, then up
  s.next.y += static_cast<std::size_t>(n * H);
  s.tasks.push_back(t);
}

void grow_buffers(MoeScratch& s) {
  grow(s.xq, s.next.xq + 64), grow(s.hq, s.next.hq + 64), grow(s.h, s.next.h), grow(s.y, s.next.y);
  grow(s.x_e, s.next.y);
  if (s.units_left_cap < s.tasks.size()) {
    s.units_left_cap = s.tasks.size() * 2;
    s.units_left = std::make_unique<std::atomic<std::int64_t>[]>(s.units_left_cap);
  }
}

// Step 1: the router's logits and the shared experts' gate and up, in one parallel step: they
// all read x and none needs the routing, and the router's small matrix then streams as part of
// the shared experts' instead of costing a step of its own.
void router_and_shared(const MoeWeights& w, const Config& c, const float* x, std::int64_t T, std::int64_t H,
                       MoeScratch& s, ThreadPool& pool) {
  s.tasks.clear();
  s.next = ExpertTask{};
  s.batch_dtype = w.experts[0].gate.dtype;
  s.next.xq = static_cast<std::size_t>(T) * act_row_bytes(s.batch_dtype, H);  // the batch's rows come first
  if (w.has_shared) add_task(s, w.shared, -1, T, T, H);
  grow_buffers(s);
  float* probs = grow(s.router.probs, static_cast<std::size_t>(T * c.n_routed_experts));
  MatmulOut outs[3] = {{&w.router, probs}, {}, {}};  // router logits in float32 (bf16 weights upcast exactly)
  if (w.has_shared) {
    float* g = s.h.data() + s.tasks[0].h;
    outs[1] = {&w.shared.gate, g}, outs[2] = {&w.shared.up, g + T * hidden(s.tasks[0])};
  }
  matmul_many({outs, w.has_shared ? 3u : 1u}, x, T, &pool);
}

// One task per used routed expert, ascending, after the shared experts' task.
void plan_routed(const MoeWeights& w, std::int64_t T, std::int64_t H, MoeScratch& s) {
  for (const std::int32_t e : s.used)
    add_task(s, w.experts[static_cast<std::size_t>(e)], e, static_cast<std::int64_t>(s.rows_of[static_cast<std::size_t>(e)].size()), T, H);
  grow_buffers(s);
  for (std::size_t i = 0; i < s.tasks.size(); ++i)
    s.units_left[i].store(s.tasks[i].expert < 0 ? 0 : gate_up_units_of(hidden(s.tasks[i])), std::memory_order_relaxed);
}

// Hidden rows [r0, r1) of task t (silu(gate) * up, in the gate half of h), quantized for its down
// projection.
void quantize_hidden(const ExpertTask& t, std::int64_t r0, std::int64_t r1, MoeScratch& s) {
  const std::int64_t I = hidden(t);
  const std::size_t hs = act_row_bytes(t.w->down.dtype, I);
  quantize_acts(t.w->down.dtype, s.h.data() + t.h + r0 * I, r1 - r0, I, s.hq.data() + t.hq + static_cast<std::size_t>(r0) * hs);
}

// Step 2: the batch's rows quantized once, then copies for the tasks that see only some rows
// (prefill; decode has none): quantized bytes copied from the batch's rows, or, for an expert
// of another type, float rows gathered and quantized.
void prepare_inputs(const float* x, std::int64_t T, std::int64_t H, MoeScratch& s, ThreadPool& pool) {
  const std::size_t xs = act_row_bytes(s.batch_dtype, H);
  pool.parallel_for(T, [&](std::int64_t b, std::int64_t e, int) {
    quantize_acts(s.batch_dtype, x + b * H, e - b, H, s.xq.data() + static_cast<std::size_t>(b) * xs);
  });
  auto& gathering = s.gathering;
  gathering.clear();
  for (std::size_t i = 0; i < s.tasks.size(); ++i)
    if (s.tasks[i].gathers) gathering.push_back(static_cast<std::int32_t>(i));
  pool.parallel_for(static_cast<std::int64_t>(gathering.size()), [&](std::int64_t b, std::int64_t e, int) {
    for (std::int64_t i = b; i < e; ++i) {
      const ExpertTask& t = s.tasks[static_cast<std::size_t>(gathering[static_cast<std::size_t>(i)])];
      const auto& rows = rows_of(t, s);
      std::uint8_t* dst = s.xq.data() + t.xq;
      if (t.w->gate.dtype == s.batch_dtype) {
        for (std::int64_t r = 0; r < t.n; ++r) std::memcpy(dst + static_cast<std::size_t>(r) * xs, s.xq.data() + static_cast<std::size_t>(rows[r]) * xs, xs);
        continue;
      }
      float* gather = s.x_e.data() + t.y;  // gathered rows laid out like outputs
      for (std::int64_t r = 0; r < t.n; ++r) std::copy(x + rows[r] * H, x + (rows[r] + 1) * H, gather + r * H);
      quantize_acts(t.w->gate.dtype, gather, t.n, H, dst);
    }
  });
}

// The shared experts' row r: silu(gate) * up, quantized for their down projection (their gate
// and up ran in step 1).
void shared_hidden(const ExpertTask& t, std::int64_t r, MoeScratch& s) {
  const std::int64_t I = hidden(t);
  float* g = s.h.data() + t.h + r * I;
  silu_mul(g, g + t.n * I, I);
  quantize_hidden(t, r, r + 1, s);
}

// Units [u0, u1) of one routed expert: units(I) of gate rows, then as many of up rows, so that a
// claim reads gate and up as one stream where up follows gate in memory (group_expert_matrices).
// The thread that finishes an expert's last unit computes silu(gate) * up and quantizes the
// hidden rows for the down projection.
void gate_up_units(const ExpertTask& t, std::size_t task, std::int64_t u0, std::int64_t u1, MoeScratch& s) {
  const std::int64_t I = hidden(t), nu = units(I);
  float* g = s.h.data() + t.h;
  float* u = g + t.n * I;
  const std::uint8_t* x = s.xq.data() + t.xq;
  if (u0 < nu) matmul_part(t.w->gate, x, t.n, u0 * kUnit, std::min(std::min(u1, nu) * kUnit, I), g, I);
  if (u1 > nu) matmul_part(t.w->up, x, t.n, (std::max(u0, nu) - nu) * kUnit, std::min((u1 - nu) * kUnit, I), u, I);
  // acq_rel: the last thread sees every other thread's rows of h before using them.
  if (s.units_left[task].fetch_sub(u1 - u0, std::memory_order_acq_rel) == u1 - u0) {
    silu_mul(g, u, t.n * I);
    quantize_hidden(t, 0, t.n, s);
  }
}

// The task owning routed gate+up unit u.
std::size_t task_of_unit(const MoeScratch& s, std::int64_t u) {
  auto it = std::upper_bound(s.tasks.begin(), s.tasks.end(), u, [](std::int64_t v, const ExpertTask& t) {
    return t.expert >= 0 && v < t.units_begin;
  });
  return static_cast<std::size_t>(it - s.tasks.begin()) - 1;
}

// Step 3: every routed expert's gate and up (hidden rows quantized as experts finish) and, as
// the last items, the shared experts' hidden rows; step 4: every task's down projection.
void experts(std::int64_t T, std::int64_t H, MoeScratch& s, ThreadPool& pool, std::span<const NextRead> next) {
  const std::int64_t n_units = s.next.units_begin;
  const bool shared = s.tasks[0].expert < 0;
  const std::int64_t per_task = units(H), n_tasks = static_cast<std::int64_t>(s.tasks.size());  // down step
  StepReads downs;
  for (const ExpertTask& t : s.tasks) downs.add({t.w->down.data, t.w->down.nbytes(), per_task});
  // A claim's units of one expert go to the kernel as one call per matrix: each matrix is then
  // read as one stream, not restarted every 64 rows (Lite Q4_0 decode: 3.4% faster, paired runs).
  pool.parallel_for(n_units + (shared ? T : 0), [&](std::int64_t b, std::int64_t e, int) {
    for (std::int64_t r = std::max(b, n_units); r < e; ++r) shared_hidden(s.tasks[0], r - n_units, s);
    e = std::min(e, n_units);
    for (std::int64_t u = b; u < e;) {
      const std::size_t i = task_of_unit(s, u);
      const ExpertTask& t = s.tasks[i];
      const std::int64_t end = std::min(e, t.units_begin + gate_up_units_of(hidden(t)));
      gate_up_units(t, i, u - t.units_begin, end - t.units_begin, s);
      u = end;
    }
  }, 1, downs.span());
  pool.parallel_for(n_tasks * per_task, [&](std::int64_t b, std::int64_t e, int) {
    for (std::int64_t u = b; u < e;) {
      const ExpertTask& t = s.tasks[static_cast<std::size_t>(u / per_task)];
      const std::int64_t end = std::min(e, (u / per_task + 1) * per_task);
      const std::int64_t o0 = (u % per_task) * kUnit;
      matmul_part(t.w->down, s.hq.data() + t.hq, t.n, o0, std::min(o0 + (end - u) * kUnit, H), s.y.data() + t.y, H);
      u = end;
    }
  }, 1, next);
}

// Weighted sum in a fixed order (routed experts ascending, then shared), per row: a row's result
// does not depend on the other rows of the batch.
void combine(std::int64_t T, std::int64_t H, const MoeScratch& s, float* out) {
  std::fill(out, out + T * H, 0.0f);
  auto add = [&](const ExpertTask& t) {
    const auto& rows = rows_of(t, s);
    const float* y = s.y.data() + t.y;
    for (std::int64_t i = 0; i < t.n; ++i) {
      const float wt = t.expert < 0 ? 1.0f : s.weight_of[static_cast<std::size_t>(t.expert)][static_cast<std::size_t>(i)];
      axpy(wt, y + i * H, out + rows[i] * H, H);
    }
  };
  for (const ExpertTask& t : s.tasks)
    if (t.expert >= 0) add(t);
  for (const ExpertTask& t : s.tasks)
    if (t.expert < 0) add(t);
}

}  // namespace

std::int64_t moe_forward(const MoeWeights& w, const Config& c, const float* x, std::int64_t T, float* out,
                         MoeScratch& s, ThreadPool& pool, std::span<const NextRead> next) {
  const std::int64_t H = c.hidden_size;
  s.all_rows.resize(static_cast<std::size_t>(T));
  for (std::int64_t t = 0; t < T; ++t) s.all_rows[static_cast<std::size_t>(t)] = static_cast<std::int32_t>(t);
  router_and_shared(w, c, x, T, H, s, pool);
  route(c, s.router.probs.data(), T, s.routing, s.router);
  group_by_expert(c, T, s);
  plan_routed(w, T, H, s);
  prepare_inputs(x, T, H, s, pool);
  experts(T, H, s, pool, next);
  combine(T, H, s, out);
  return static_cast<std::int64_t>(s.tasks.size()) - (w.has_shared ? 1 : 0);
}

}  // namespace dsv2
