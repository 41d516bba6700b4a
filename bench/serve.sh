#!/bin/bash
# Server benchmark (not a test), issue 5 item 7: aggregate generation tokens/s at 1, 4 and 8
# concurrent streams (a different prompt per stream, ignore_eos, the same n_predict each), next to
# the bandwidth bound a MoE model allows; and time to first token for a ~1,500-token FIM prompt of
# Python code: cold, after a one-line edit above a cursor near the end of the file (short suffix)
# and above a cursor in the middle (long suffix), through /v1/completions `suffix` and through
# llama.cpp's /infill. Prints Markdown tables for docs/benchmarks.md. The client is bench/serve.py.
#
# Usage: bench/serve.sh [MODEL] [DSV2_BINARY]
#   MODEL        default models/lite-q4_0.gguf (DeepSeek-V2-Lite shapes, random weights, real
#                tokenizer), written with `dsv2 synth --preset lite --type q4_0` when absent
#                (~1-2 min, 8.2 GiB); any GGUF file or Hugging Face directory works
#   DSV2_BINARY  default build/dsv2
# Environment:
#   THREADS=N      compute threads (default: all cores)
#   N_PREDICT=N    tokens per stream (default 128)     REPS=N       repetitions per stream count (3)
#   STREAMS=1,4,8  stream counts                       TTFT_REPS=N  cold/edit pairs per case (1)
#   FIM_TOKENS=N   FIM prompt size (1500)              SKIP=a,b     skip: throughput, ttft, infill
#   MMAP=1         serve with --mmap (shares the page cache; slower decode than the default load)
#   STEP_TOKENS=N  --step-tokens for the server        CACHE_TYPE=T --cache-type (f32)
#   PARALLEL=N     --parallel (8)                      CTX=N        --ctx (4096)
#   STALL=1        also: how long 4 decoding streams stall while a cold FIM prompt is prefilled
#   BOUND_ONLY=1   print only the bandwidth bound (reads the model's tensor sizes; no server)
#   SERVER_LOG=F   keep the server's stdout/stderr in F
#   e.g. MMAP=1 N_PREDICT=32 REPS=1 bench/serve.sh      (a short check)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
model=${1:-$root/models/lite-q4_0.gguf}
dsv2=${2:-$root/build/dsv2}
threads=${THREADS:-$(nproc)}

if [ ! -e "$model" ]; then
  [ "$model" = "$root/models/lite-q4_0.gguf" ] || { echo "serve.sh: $model: no such model" >&2; exit 1; }
  mkdir -p "$root/models"
  "$dsv2" synth --preset lite --type q4_0 -o "$model"
fi

client=(python3 "$root/bench/serve.py" --model "$model" --dsv2 "$dsv2" --threads "$threads"
        --streams "${STREAMS:-1,4,8}" --n-predict "${N_PREDICT:-128}" --reps "${REPS:-3}"
        --ttft-reps "${TTFT_REPS:-1}" --fim-tokens "${FIM_TOKENS:-1500}" --cache-type "${CACHE_TYPE:-f32}"
        --skip "${SKIP:-}")
[ "${STALL:-0}" = 1 ] && client+=(--stall)
if [ "${BOUND_ONLY:-0}" = 1 ]; then
  exec "${client[@]}" --bound-only
fi

flags=(--alias bench --port 0 --parallel "${PARALLEL:-8}" --ctx "${CTX:-4096}" -t "$threads"
       --cache-type "${CACHE_TYPE:-f32}" -q)
[ "${MMAP:-0}" = 1 ] && flags+=(--mmap)
[ -n "${STEP_TOKENS:-}" ] && flags+=(--step-tokens "$STEP_TOKENS")

out=${SERVER_LOG:-$(mktemp)}
"$dsv2" serve -m "$model" "${flags[@]}" >"$out" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; [ -n "${SERVER_LOG:-}" ] || rm -f "$out"' EXIT
port=
for _ in $(seq 1 6000); do  # loading an 8 GiB model into memory takes a while
  port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$out" | grep -o '[0-9]*$' || true)
  [ -n "$port" ] && break
  kill -0 $pid 2>/dev/null || { cat "$out"; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { cat "$out"; exit 1; }
echo "dsv2 serve ${flags[*]} (pid $pid)"
"${client[@]}" --port "$port"
