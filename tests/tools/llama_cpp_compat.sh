#!/bin/bash
# CTest driver: llama.cpp itself (the prebuilt CPU binaries of the npm package node-llama-cpp,
# pinned in bench/llama_cpp/package-lock.json) loads GGUF files `dsv2 convert` writes from the
# trained tiny-coder, in both layouts, tokenizes like dsv2, continues greedily with dsv2's text,
# and matches the reference logits (bench/llama_cpp/compat.mjs, exit 1 on any failed check).
# f32 only: quantized kernels may legitimately take another branch at a near tie.
# Exit 77 (skipped) without node/npm or when the npm registry cannot be reached.
# Usage: llama_cpp_compat.sh DSV2_BINARY TINY_CODER_FIXTURE_DIR WORK_DIR
set -u
dsv2=$1 golden=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
src=$here/../../bench/llama_cpp

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "node/npm not found: skipping"; exit 77
fi
mkdir -p "$work"
cp "$src"/package.json "$src"/package-lock.json "$src"/*.mjs "$work/"
if [ ! -f "$work/node_modules/.package-lock.json" ]; then
  # As bench/llama_cpp.sh: no install scripts (they would build llama.cpp from source), only the
  # linux-x64 CPU binaries; npm ci refuses this lock where the registry lacks node-llama-cpp's
  # other platforms' optional packages, so fall back to installing the same locked versions.
  if ! (cd "$work" && { npm ci --ignore-scripts --omit=optional --no-audit --no-fund ||
                        npm install --no-save --ignore-scripts --omit=optional --no-audit --no-fund; } >npm.log 2>&1); then
    cat "$work/npm.log"; echo "npm install failed (registry unreachable?): skipping"; exit 77
  fi
fi
export NODE_LLAMA_CPP_SKIP_DOWNLOAD=true NODE_LLAMA_CPP_GPU=false
status=0
for layout in mla legacy; do
  model=$work/tiny-coder-f32-$layout.gguf
  "$dsv2" convert "$golden/model" "$model" --type f32 --layout "$layout" >/dev/null || exit 1
  echo "== $layout"
  node "$work/compat.mjs" "$model" --dsv2 "$dsv2" --golden "$golden" -t 1 || status=1
done
exit $status
