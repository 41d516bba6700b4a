#!/usr/bin/env bash
# The standard CPU inference table: builds dsv2 (Release), writes the Lite-shaped random-weight
# Q4_0 and Q8_0 GGUF models if they are absent (`dsv2 synth --preset lite --type T`, ~1-2 min
# each, 8.2 / 15.6 GiB), and runs `dsv2 bench` on each (llama-bench style table with read
# bandwidth, roofline share and peak RSS). With LLAMA_CPP=1, llama.cpp runs the same file with the
# same flags right after (bench/llama_cpp.sh: node-llama-cpp's prebuilt binaries, from npm), then
# dsv2's generation once more.
# Usage: bench/cpu.sh [build-dir] [threads] [extra dsv2 bench flags...]
#   e.g. bench/cpu.sh build 2 -p 64 -n 16 -r 5
#        LLAMA_CPP=1 bench/cpu.sh build 2 -p 64 -n 16 -r 3     (pp/tg/reps are passed on to it)
# MODELS=dir (default models/) says where the GGUF files live; TYPES="q4_0 q8_0" which to run
# (any `dsv2 synth --type` name, e.g. TYPES="q4_k_m" for llama-quantize's Q4_K_M mix, the file
# most users download; a K-quant model takes ~12 min to write on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
threads=${2:-2}
shift $(( $# > 2 ? 2 : $# )) || true
flags=("$@")
[ ${#flags[@]} -eq 0 ] && flags=(-p 512 -n 128 -r 3)
models=${MODELS:-models}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$build" dsv2 >/dev/null
# The -p / -n / -r values, for llama.cpp's run.
flag() { local want=$1 def=$2 i; for ((i = 0; i < ${#flags[@]} - 1; ++i)); do [ "${flags[i]}" = "$want" ] && { echo "${flags[i+1]}"; return; }; done; echo "$def"; }
mkdir -p "$models"
for type in ${TYPES:-q4_0 q8_0}; do
  model="$models/lite-$type.gguf"
  [ -f "$model" ] || "$build/dsv2" synth --preset lite --type "$type" -o "$model"
  "$build/dsv2" bench -m "$model" -t "$threads" "${flags[@]}"
  echo
  if [ "${LLAMA_CPP:-0}" = 1 ]; then
    bench/llama_cpp.sh "$model" "$threads" "$(flag -p 512)" "$(flag -n 128)" "$(flag -r 3)"
    echo
    # A shared machine's bandwidth drifts within minutes (a Zen 5 VM: 47 to 84 GB/s in one
    # half hour), so the two engines' runs, a minute apart, can land in different stretches:
    # dsv2's generation once more, right after llama.cpp's, brackets it.
    echo "dsv2 generation again, right after llama.cpp's run:"
    "$build/dsv2" bench -m "$model" -t "$threads" -p 0 -n "$(flag -n 128)" -r "$(flag -r 3)"
    echo
  fi
done
