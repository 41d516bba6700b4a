#!/usr/bin/env bash
# The standard CPU inference table: builds dsv2 (Release) and runs `dsv2 bench` on Lite-shaped
# random-weight Q4_0 and Q8_0 models. Until GGUF models load, the models are built in memory
# (--synth lite --type T); pass MODEL paths to bench files instead.
# Usage: bench/cpu.sh [build-dir] [threads] [extra dsv2 bench flags...]
#   e.g. bench/cpu.sh build 2 -p 64 -n 16 -r 3      (LAYERS=N shrinks the synth model)
set -euo pipefail
build=${1:-build}
threads=${2:-2}
shift $(( $# > 2 ? 2 : $# )) || true
flags=("$@")
[ ${#flags[@]} -eq 0 ] && flags=(-p 512 -n 128 -r 3)
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null
ninja -C "$build" -j2 dsv2 >/dev/null
layers=()
[ -n "${LAYERS:-}" ] && layers=(--layers "$LAYERS")
for type in q4_0 q8_0; do
  "$build/dsv2" bench --synth lite --type "$type" "${layers[@]}" -t "$threads" "${flags[@]}"
  echo
done
