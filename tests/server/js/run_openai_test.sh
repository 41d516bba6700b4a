#!/bin/bash
# CTest driver: installs the pinned openai client (npm ci) into WORK_DIR, starts `dsv2 serve` on a
# free loopback port and runs openai_client.test.mjs against it. Exit 77 (skipped) without node/npm
# or when the npm registry cannot be reached.
# Usage: run_openai_test.sh DSV2_BINARY MODEL_DIR WORK_DIR
set -u
dsv2=$1 model=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "node/npm not found: skipping"; exit 77
fi
mkdir -p "$work"
cp "$here/package.json" "$here/package-lock.json" "$here/openai_client.test.mjs" "$work/"
if ! (cd "$work" && npm ci --no-audit --no-fund >npm.log 2>&1); then
  cat "$work/npm.log"; echo "npm ci failed (registry unreachable?): skipping"; exit 77
fi

out=$(mktemp) 
"$dsv2" serve -m "$model" --alias text-bf16 --port 0 --ctx 1024 --parallel 2 --api-key test-key -q >"$out" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$out"' EXIT
port=
for _ in $(seq 1 300); do
  port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$out" | grep -o '[0-9]*$')
  [ -n "$port" ] && break
  kill -0 $pid 2>/dev/null || { cat "$out"; echo "dsv2 serve exited"; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { cat "$out"; echo "dsv2 serve did not start"; exit 1; }

(cd "$work" && node openai_client.test.mjs "http://127.0.0.1:$port/v1" test-key)
status=$?
kill -TERM $pid
wait $pid
server_status=$?
[ $server_status -eq 0 ] || { cat "$out"; echo "dsv2 serve exited with $server_status after SIGTERM"; exit 1; }
exit $status
