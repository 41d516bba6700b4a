#!/usr/bin/env bash
# llama.cpp side of the CPU table: llama-bench-style ppN / tgN (tokens/s, mean ± sd) for a GGUF
# file, run by llama.cpp's own prebuilt CPU binaries from the npm package node-llama-cpp (pinned
# in bench/llama_cpp/package-lock.json; which llama.cpp build it bundles: first output line).
# Nothing is compiled or downloaded at run time; the install needs only the npm registry.
# What exactly is timed: the header of bench/llama_cpp/bench.mjs.
# Usage: bench/llama_cpp.sh MODEL.gguf [threads=2] [pp=64] [tg=16] [reps=5] [bench.mjs flags...]
#   e.g. bench/llama_cpp.sh models/lite-q4_0.gguf 2 64 16 3
#        build/dsv2 bench -m models/lite-q4_0.gguf -t 2 -p 64 -n 16 -r 3   # the dsv2 side
# Extra flags go to bench.mjs: -o json, --tg-prompt 0 (llama-bench's tg from an empty cache;
# --tg-prompt 4096 with pp 0: decode at depth, as `dsv2 bench -d 4096`),
# --override KEY=TYPE:VALUE (llama.cpp --override-kv), -v (llama.cpp's log on stderr).
# GGUF compatibility check (does llama.cpp load the file and compute what dsv2 computes?):
#   bench/llama_cpp.sh --compat MODEL.gguf --dsv2 build/dsv2 [--golden DIR] [compat.mjs flags...]
set -euo pipefail
if [ $# -lt 1 ]; then sed -n '2,13p' "$0" >&2; exit 2; fi
dir="$(cd "$(dirname "$0")" && pwd)/llama_cpp"
compat=0
if [ "$1" = --compat ]; then compat=1; shift; fi
[ -f "${1:-}" ] || { echo "no such file: ${1:-}" >&2; exit 2; }
if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
  # --ignore-scripts: node-llama-cpp's postinstall would try to build llama.cpp from source if the
  # prebuilt binaries did not load. --omit=optional: only the CPU binaries (linux-x64, a direct
  # dependency), not the CUDA/Vulkan ones. `npm ci` refuses this lock where the registry lacks
  # some of node-llama-cpp's optional platform packages (mac/win/riscv); the fallback installs the
  # same locked versions without writing the lock.
  log=$(mktemp)
  if ! (cd "$dir" && npm ci --ignore-scripts --omit=optional --no-audit --no-fund >"$log" 2>&1); then
    (cd "$dir" && npm install --no-save --ignore-scripts --omit=optional --no-audit --no-fund >"$log" 2>&1) || { cat "$log" >&2; rm -f "$log"; exit 1; }
  fi
  rm -f "$log"
fi
# bench.mjs asks for prebuilt binaries only (build: "never", skipDownload); these say the same to
# node-llama-cpp's environment defaults. A run opens no network socket (checked with strace).
export NODE_LLAMA_CPP_SKIP_DOWNLOAD=true NODE_LLAMA_CPP_GPU=false
if [ $compat = 1 ]; then exec node "$dir/compat.mjs" "$@"; fi
model=$(realpath "$1")
threads=${2:-2} pp=${3:-64} tg=${4:-16} reps=${5:-5}
shift $(( $# > 5 ? 5 : $# ))
exec node "$dir/bench.mjs" "$model" -t "$threads" -p "$pp" -n "$tg" -r "$reps" "$@"
