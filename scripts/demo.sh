#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: install, build, and serve a model over HTTP
# (OpenAI, DeepSeek FIM, llama.cpp and Ollama APIs) on http://127.0.0.1:8080.
#   bash scripts/demo.sh                 # a synthesized random-weight demo model (see below)
#   bash scripts/demo.sh MODEL [ARGS]    # a real checkpoint directory or GGUF file, extra serve flags
# With no model it synthesizes `dsv2 synth --preset tiny` (real DeepSeek-V2 architecture and
# tokenizer, RANDOM weights: the server works end to end but the text it writes is gibberish).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
model="${1:-}"
[ $# -gt 0 ] && shift
if [ -z "$model" ]; then
  model=models/demo-tiny
  if [ ! -f "$model/config.json" ]; then
    ./build/dsv2 synth --preset tiny -o "$model" --force
  fi
  echo "== serving $model: a RANDOM-WEIGHT demo model (real architecture and tokenizer; output is gibberish)" >&2
fi
cat >&2 <<'MSG'
== try:  curl -s http://127.0.0.1:8080/v1/completions -H 'Content-Type: application/json' \
           -d '{"prompt":"def add(a, b):","suffix":"\nprint(add(1, 2))","max_tokens":16}'
== editors and clients: docs/serving.md
MSG
exec ./build/dsv2 serve -m "$model" "$@"
