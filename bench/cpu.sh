#!/usr/bin/env bash
# The standard CPU inference table: builds dsv2 (Release), writes the Lite-shaped random-weight
# Q4_0 and Q8_0 GGUF models if they are absent (`dsv2 synth --preset lite --type T`, ~1-2 min
# each, 8.2 / 15.6 GiB), and runs `dsv2 bench` on each (llama-bench style table with read
# bandwidth, roofline share and peak RSS).
# Usage: bench/cpu.sh [build-dir] [threads] [extra dsv2 bench flags...]
#   e.g. bench/cpu.sh build 2 -p 64 -n 16 -r 5
# MODELS=dir (default models/) says where the GGUF files live.
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
mkdir -p "$models"
for type in q4_0 q8_0; do
  model="$models/lite-$type.gguf"
  [ -f "$model" ] || "$build/dsv2" synth --preset lite --type "$type" -o "$model"
  "$build/dsv2" bench -m "$model" -t "$threads" "${flags[@]}"
  echo
done
