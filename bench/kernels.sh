#!/usr/bin/env bash
# Runs bench_kernels and prints a markdown table: gemv (rows = 1) GB/s of weight bytes and
# rows = 64 GFLOP/s, at 1 and 2 threads, best of N repetitions (the machine is shared: the best
# run is the least disturbed one). Usage: bench/kernels.sh [build-dir] [repetitions]
# "1t cpu-time" divides by the thread's CPU time instead of wall time: on a loaded machine it is
# the better estimate of the kernel's own speed (memory contention still counts).
# DSV2_ISA=scalar|avx2|avx512 caps the kernel level; extra filters via BENCH_FILTER=regex.
set -euo pipefail
build=${1:-build}
reps=${2:-3}
json=$(mktemp)
trap 'rm -f "$json"' EXIT
"$build/bench/bench_kernels" --benchmark_filter="${BENCH_FILTER:-.}" --benchmark_repetitions="$reps" \
  --benchmark_format=json --benchmark_out="$json" --benchmark_out_format=json >/dev/null
python3 - "$json" <<'PY'
import json, re, sys
runs = json.load(open(sys.argv[1]))["benchmarks"]
best, isa = {}, "?"
for r in runs:
    if r.get("run_type") != "iteration":
        continue
    m = re.match(r"matmul/(\w+)/(\d+x\d+)/rows:(\d+)/threads:(\d+)", r["name"])
    if not m:  # the attention lane kernels have their own table (BENCH_FILTER=lanes)
        continue
    t, shape, rows, threads = m.group(1), m.group(2), int(m.group(3)), int(m.group(4))
    isa = r.get("label", isa)
    val = r["GB/s"] / 1e9 if rows == 1 else r["GFLOP/s"] / 1e9
    best.setdefault((t, shape), {})
    cells = [(rows, threads, "wall")]
    if threads == 1:  # one thread: its CPU time excludes time the OS gave to other processes
        cells.append((rows, 1, "cpu"))
    for k in cells:
        v = val * r["real_time"] / r["cpu_time"] if k[2] == "cpu" else val
        best[(t, shape)][k] = max(best[(t, shape)].get(k, 0.0), v)
print(f"ISA: {isa}\n")
print("| type | shape [out x in] | gemv GB/s 1t | 1t cpu-time | 2t | rows=64 GFLOP/s 1t | 1t cpu-time | 2t |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
for (t, shape), v in best.items():
    cell = lambda *k: f"{v[k]:.1f}" if k in v else "-"
    print(f"| {t} | {shape} | {cell(1,1,'wall')} | {cell(1,1,'cpu')} | {cell(1,2,'wall')} "
          f"| {cell(64,1,'wall')} | {cell(64,1,'cpu')} | {cell(64,2,'wall')} |")
PY
