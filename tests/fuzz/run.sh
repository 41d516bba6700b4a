#!/usr/bin/env bash
# Builds the GGUF reader fuzzer with clang (libFuzzer + ASan + UBSan) into OUT_DIR, writes a seed
# corpus with dsv2's own GgufWriter, and fuzzes for SECONDS. Exits 77 (CTest: skipped) when no
# clang with libFuzzer is installed.
#   tests/fuzz/run.sh [OUT_DIR] [SECONDS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/build/fuzz}
seconds=${2:-20}

cxx=$(command -v clang++ || command -v clang++-14 || true)
if [[ -z "$cxx" ]]; then echo "gguf_fuzz: no clang++; skipped"; exit 77; fi
rm -rf "$out/scratch"
mkdir -p "$out/corpus" "$out/seeds" "$out/scratch"
if ! echo 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long) { return 0; }' |
     "$cxx" -x c++ -fsanitize=fuzzer - -o "$out/probe" 2>/dev/null; then
  echo "gguf_fuzz: $cxx has no libFuzzer (libclang-rt-dev); skipped"; exit 77
fi

sources=("$here/gguf_fuzz.cpp" "$root"/src/io/{gguf,gguf_parse,gguf_types,gguf_writer,mapped_file}.cpp
         "$root"/src/tensor/{dtype,tensor}.cpp "$root"/src/model/{config,gguf_layout}.cpp)
bin="$out/gguf_fuzz"
newest=$(ls -t "${sources[@]}" "$root"/src/io/*.h "$root"/src/model/*.h | head -1)
if [[ ! -x "$bin" || "$newest" -nt "$bin" ]]; then
  "$cxx" -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$root/src" "${sources[@]}" -o "$bin"
fi
DSV2_FUZZ_WRITE_SEEDS="$out/seeds" "$bin"
# The target writes each input to a per-process file under TMPDIR: keep those in the build tree,
# not in /tmp where every run would leave one behind.
TMPDIR="$out/scratch" exec "$bin" -max_total_time="$seconds" -max_len=8192 -timeout=10 -print_final_stats=1 \
  "$out/corpus" "$out/seeds"
