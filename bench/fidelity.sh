#!/usr/bin/env bash
# Prints the quantization fidelity table of docs/benchmarks.md: the trained tiny-coder model
# converted to GGUF f32, then quantized to each type; top-1 agreement with f32 and mean
# KL(f32 || quantized) over the positions of its golden.json.
#   bench/fidelity.sh
set -euo pipefail
cd "$(dirname "$0")/.."
launcher=(); command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
ninja -C build -j2 test_tools dsv2 >/dev/null
./build/tests/test_tools --gtest_filter='GgufFidelity.*' | grep '^|'
