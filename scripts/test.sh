#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test: the Release suite (unit, golden, CLI and
# server tests, the bounded GGUF fuzzer — itself built with ASan+UBSan), then every test again
# under AddressSanitizer + UndefinedBehaviorSanitizer except the `slow` load test and the fuzzer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
jobs=$(nproc)
ctest --test-dir build -j"$jobs" --output-on-failure

echo "== sanitizer build (ASan + UBSan)"
launcher=(); command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
# -O1 -g1: sanitizer reports keep file:line, and the build takes far less time than -O2 -g on
# CI's two cores; benchmarks are not built (they are not tests).
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
  -DDSV2_SANITIZE=ON -DDSV2_BENCH=OFF "${launcher[@]}" >/dev/null
ninja -C build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan -j"$jobs" --output-on-failure -LE "slow|fuzz"
