#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: install, build, and run dsv2 on a model found locally.
# With no argument it completes code with the small *trained* tiny-coder model from ../shared
# (a 3.5M-parameter DeepSeek-V2-architecture model: it writes code-looking text, not useful code).
# Give a Hugging Face checkpoint directory of a real model as $1 to use that instead.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
model="${1:-}"
if [ -z "$model" ]; then
  model="${DSV2_SHARED_DIR:-$PWD/../shared}/fixtures/models/tiny-coder/model"
  [ -d "$model" ] || { echo "no model given and $model not found" >&2; exit 1; }
  echo "== dsv2 run on the tiny-coder demo model (trained, 3.5M parameters: expect code-shaped text)" >&2
fi
./build/dsv2 run -m "$model" -p $'import os\n\n\ndef list_python_files(root):\n' -n 64 --verbose
