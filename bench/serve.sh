#!/bin/bash
# Server benchmark (not a test): aggregate generation tokens/s at 1, 4 and 8 concurrent streams,
# and time to first token for a ~1,500-token FIM prompt, cold vs. after a one-line edit (prefix
# reuse). Prints a Markdown table for docs/benchmarks.md.
# Usage: bench/serve.sh [MODEL_DIR] [DSV2_BINARY]   (defaults: the text-bf16 golden model, build/dsv2)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
model=${1:-$root/../shared/fixtures/golden/text-bf16/model}
dsv2=${2:-$root/build/dsv2}
threads=${THREADS:-$(nproc)}

out=$(mktemp)
"$dsv2" serve -m "$model" --alias bench --port 0 --parallel 8 --ctx 4096 -t "$threads" -q >"$out" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$out"' EXIT
port=
for _ in $(seq 1 600); do
  port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$out" | grep -o '[0-9]*$' || true)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { cat "$out"; exit 1; }

python3 - "$port" "$threads" <<'PY'
import json, sys, threading, time, urllib.request

port, threads = int(sys.argv[1]), sys.argv[2]
base = f"http://127.0.0.1:{port}"

def post(path, body):
    req = urllib.request.Request(base + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    return urllib.request.urlopen(req, timeout=600)

def generate(n_tokens, i):
    # llama.cpp's ignore_eos keeps a random-weight model going for exactly n_tokens.
    body = {"prompt": f"Stream {i}: the quick brown fox", "n_predict": n_tokens, "ignore_eos": True}
    return json.load(post("/completion", body))["tokens_predicted"]

def throughput(streams, n_tokens=128):
    results = [0] * streams
    def run(i): results[i] = generate(n_tokens, i)
    ts = [threading.Thread(target=run, args=(i,)) for i in range(streams)]
    t0 = time.perf_counter()
    for t in ts: t.start()
    for t in ts: t.join()
    return sum(results) / (time.perf_counter() - t0)

def ttft(prefix, suffix):
    body = {"prompt": prefix, "suffix": suffix, "max_tokens": 4, "stream": True,
            "stream_options": {"include_usage": True}}
    t0 = time.perf_counter()
    first, usage = None, None
    with post("/v1/completions", body) as r:
        for line in r:
            line = line.decode().strip()
            if not line.startswith("data: ") or line == "data: [DONE]": continue
            ev = json.loads(line[6:])
            if first is None and ev["choices"] and ev["choices"][0]["text"]: first = time.perf_counter() - t0
            if ev.get("usage"): usage = ev["usage"]
    return (first if first is not None else time.perf_counter() - t0) * 1e3, usage

generate(8, 0)  # warm up
rows = [(n, throughput(n)) for n in (1, 4, 8)]

lines = [f"def function_{i}(x, y):\n    total = x * {i} + y - {i % 7}\n    return total\n" for i in range(52)]
prefix, suffix = "".join(lines[:44]), "".join(lines[44:])
cold, usage = ttft(prefix, suffix)
edited = prefix[:prefix.rfind("    return total")] + "    return total + 1  # edited\n"
warm, usage2 = ttft(edited, suffix)

print(f"threads: {threads}")
print("| concurrent streams | aggregate generation tokens/s |")
print("|---:|---:|")
for n, tps in rows: print(f"| {n} | {tps:.0f} |")
print()
print(f"| FIM prompt ({usage['prompt_tokens']} tokens) | time to first token (ms) | prompt tokens reused |")
print("|---|---:|---:|")
print(f"| cold | {cold:.1f} | {usage['prompt_tokens_details']['cached_tokens']} |")
print(f"| after a one-line edit near the cursor | {warm:.1f} | {usage2['prompt_tokens_details']['cached_tokens']} |")
PY
