#!/usr/bin/env bash
# Builds bench_tokenizer (Release) and prints the tokenizer's throughput on one core.
#   bench/tokenizer.sh [tokenizer path] [corpus file]
# Defaults: shared/fixtures/tokenizer/deepseek-v2 and ~5 MB of distinct C++ headers.
set -euo pipefail
cd "$(dirname "$0")/.."
launcher=(); command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
ninja -C build -j2 bench_tokenizer >/dev/null
[ $# -ge 1 ] && export DSV2_BENCH_MODEL="$1"
[ $# -ge 2 ] && export DSV2_BENCH_CORPUS="$2"
json=$(taskset -c 0 ./build/bench/bench_tokenizer --benchmark_format=json --benchmark_repetitions=3 \
         --benchmark_report_aggregates_only=true 2>/dev/null)
python3 - "$json" <<'PY'
import json, sys
runs = [b for b in json.loads(sys.argv[1])["benchmarks"] if b.get("aggregate_name") == "median"]
print(f"{'benchmark':<16} {'MB/s (1e6 B)':>13} {'CPU ms/iter':>12} {'tokens':>10}")
for b in runs:
    name = b["run_name"].split("/")[0].replace("BM_", "")
    tokens = f"{int(b['tokens']):,}" if "tokens" in b else ""
    print(f"{name:<16} {b['bytes_per_second'] / 1e6:>13.1f} {b['cpu_time']:>12.1f} {tokens:>10}")
PY
