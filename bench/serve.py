#!/usr/bin/env python3
"""Client side of bench/serve.sh (issue 5, item 7): talks to a running `dsv2 serve`.

  python3 bench/serve.py --port P --model MODEL --dsv2 BIN [--n-predict N] [--reps R] ...
  python3 bench/serve.py --bound-only --model MODEL     # only the bandwidth bound, no server

Measures
  1. aggregate generation tokens/s at 1, 4 and 8 concurrent streams (llama.cpp /completion,
     streamed, `ignore_eos`, the same n_predict for every stream, a different prompt per stream),
     next to the bandwidth bound of a MoE decode step (see moe_bound below);
  2. time to first token of a ~1,500-token FIM prompt: cold, after a one-line edit above a cursor
     near the end of the file (short suffix), and after a one-line edit above a cursor in the
     middle (long suffix); through /v1/completions with `suffix` and through /infill.
  3. (--stall) how long decoding streams stall while a cold 1,500-token prompt is prefilled.
Only the standard library: it must run wherever the server does.
"""
import argparse
import json
import os
import random
import statistics
import struct
import subprocess
import sys
import threading
import time
import urllib.request

# ----------------------------------------------------------------------------------------------
# Tensor sizes of the model file, for the bandwidth bound.

GGML_BLOCKS = {  # ggml type id -> (elements per block, bytes per block)
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34), 9: (32, 36),
    10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210), 15: (256, 292), 30: (1, 2)}
GGML_NAMES = {0: "f32", 1: "f16", 2: "q4_0", 8: "q8_0", 12: "q4_k", 13: "q5_k", 14: "q6_k", 30: "bf16"}
ST_BYTES = {"F32": 4, "F16": 2, "BF16": 2, "F64": 8, "I32": 4, "I64": 8, "U8": 1, "I8": 1}


def read_gguf(path):
    """(metadata, [(name, n_elements, type_name, bytes)]) of a GGUF file (header only)."""
    with open(path, "rb") as f:
        def u(fmt):
            fmt = "<" + fmt
            return struct.unpack(fmt, f.read(struct.calcsize(fmt)))[0]

        def s():
            return f.read(u("Q")).decode("utf-8", "replace")
        scalar = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}

        def value(t):
            if t == 8:
                return s()
            if t == 9:
                at, n = u("I"), u("Q")
                if at in scalar:  # skip arrays (the vocabulary): not needed here
                    f.seek(n * struct.calcsize(scalar[at]), 1)
                    return None
                return [value(at) for _ in range(n)]
            return u(scalar[t])
        if f.read(4) != b"GGUF":
            raise ValueError(f"{path}: not a GGUF file")
        u("I")
        n_tensors, n_kv = u("Q"), u("Q")
        meta = {}
        for _ in range(n_kv):
            k = s()
            meta[k] = value(u("I"))
        tensors = []
        for _ in range(n_tensors):
            name = s()
            dims = [u("Q") for _ in range(u("I"))]
            typ = u("I")
            u("Q")
            n = 1
            for d in dims:
                n *= d
            blk, by = GGML_BLOCKS[typ]
            tensors.append((name, n, GGML_NAMES.get(typ, str(typ)), n // blk * by))
    return meta, tensors


def read_hf(dir_):
    cfg = json.load(open(os.path.join(dir_, "config.json")))
    tensors = []
    for fn in sorted(os.listdir(dir_)):
        if not fn.endswith(".safetensors"):
            continue
        with open(os.path.join(dir_, fn), "rb") as f:
            header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
        for name, info in header.items():
            if name == "__metadata__":
                continue
            n = 1
            for d in info["shape"]:
                n *= d
            b0, b1 = info["data_offsets"]
            tensors.append((name, n, info["dtype"].lower(), b1 - b0))
    return cfg, tensors


def model_shape(path):
    """Per-step weight bytes by class, and the routing shape, of a GGUF file or an HF directory.

    Counted as src/tools/bench.cpp weight_bytes_per_token counts them: the LM head, every
    attention/dense/shared-expert/router matrix once, the embedding not at all (one row per
    token); kv_b as its W_UV rows plus the transposed W_UK copy the engine makes (q8_0 for
    quantized sources, bf16 for bf16/q8_0, see src/model/weights.cpp uk_t_copy_type)."""
    fixed, expert_per_layer, layers_moe = 0.0, {}, set()
    if os.path.isdir(path):
        cfg, tensors = read_hf(path)
        E, k = cfg.get("n_routed_experts") or 0, cfg.get("num_experts_per_tok") or 0
        L, r, dr = cfg["num_hidden_layers"], cfg["kv_lora_rank"], cfg["qk_rope_head_dim"]
        nh, dn, dv = cfg["num_attention_heads"], cfg["qk_nope_head_dim"], cfg["v_head_dim"]
        has_head = any(t[0] == "lm_head.weight" for t in tensors)
        for name, n, typ, by in tensors:
            parts = name.split(".")
            if name == "model.embed_tokens.weight":
                if not has_head:
                    fixed += by
                continue
            if ".mlp.experts." in name:
                li = int(parts[2])
                layers_moe.add(li)
                expert_per_layer[li] = expert_per_layer.get(li, 0.0) + by / E
                continue
            if name.endswith("kv_b_proj.weight"):
                by = kv_b_bytes(by, typ, nh, r, dn, dv)
            fixed += by
    else:
        meta, tensors = read_gguf(path)
        a = meta["general.architecture"]
        E, k = meta.get(a + ".expert_count", 0), meta.get(a + ".expert_used_count", 0)
        L, r, dr = meta[a + ".block_count"], meta[a + ".attention.kv_lora_rank"], meta[a + ".rope.dimension_count"]
        nh = meta[a + ".attention.head_count"]
        dn, dv = meta[a + ".attention.key_length"] - dr, meta[a + ".attention.value_length"]
        has_head = any(t[0] == "output.weight" for t in tensors)
        for name, n, typ, by in tensors:
            if name == "token_embd.weight":
                if not has_head:
                    fixed += by
                continue
            parts = name.split(".")
            if name.endswith("_exps.weight"):
                li = int(parts[1])
                layers_moe.add(li)
                expert_per_layer[li] = expert_per_layer.get(li, 0.0) + by / E
                continue
            if name.endswith("attn_kv_b.weight"):
                by = kv_b_bytes(by, typ, nh, r, dn, dv)
            fixed += by  # attn_k_b / attn_v_b (newer layout): both read whole
    return {"fixed": fixed, "expert": expert_per_layer, "E": E, "k": k, "layers": L,
            "kv_width": r + dr, "moe_layers": len(layers_moe)}


def kv_b_bytes(by, typ, nh, r, dn, dv):
    uv = by * dv / (dn + dv)
    if typ in ("bf16", "q8_0"):
        uk_row = 2 * dn
    elif typ in ("f32", "f16"):
        uk_row = 4 * dn
    else:
        uk_row = dn // 32 * 34 if dn % 32 == 0 else 4 * dn
    return uv + nh * r * uk_row


def kv_bytes_per_token(shape, cache_type):
    w = shape["kv_width"]
    row = {"f32": 4 * w, "bf16": 2 * w, "q8_0": (w + 31) // 32 * 34}[cache_type]
    return shape["layers"] * row


def distinct_experts(E, k, B):
    """E[number of distinct experts] that B tokens pick, each k of E uniformly at random:
    an expert escapes one token with probability (E - k) / E."""
    return E * (1 - ((E - k) / E) ** B) if E else 0.0


def step_bytes(shape, B, kv_token_bytes=0.0, context=0):
    """Bytes one decode step over B sequences reads: the fixed weights once, each MoE layer's
    distinct experts once, and every sequence's own KV cache (context tokens each)."""
    d = distinct_experts(shape["E"], shape["k"], B)
    return shape["fixed"] + d * sum(shape["expert"].values()) + B * context * kv_token_bytes


def moe_bound(shape, B, kv_token_bytes=0.0, context=0, routed=None):
    """Upper bound on (aggregate t/s at B streams) / (t/s at 1 stream) for memory-bound decode;
    routed: the measured distinct experts per MoE layer and step at B streams (default: uniform)."""
    one = step_bytes(shape, 1, kv_token_bytes, context)
    if routed is None:
        return B * one / step_bytes(shape, B, kv_token_bytes, context)
    many = shape["fixed"] + routed * sum(shape["expert"].values()) + B * context * kv_token_bytes
    return B * one / many


def print_bound(shape, streams, kv_token_bytes, context):
    unit, div = ("GiB", 1 << 30) if shape["fixed"] > (1 << 28) else ("MiB", 1 << 20)
    routed = sum(shape["expert"].values())
    print(f"bandwidth bound ({shape['moe_layers']} MoE layers, {shape['E']} experts, top-{shape['k']}; "
          f"fixed weights {shape['fixed'] / div:.3f} {unit}/step, one expert in every MoE layer "
          f"{routed / div:.3f} {unit}, KV {kv_token_bytes / 1024:.1f} KiB/token at ~{context} tokens of context):")
    print()
    print(f"| streams B | E[distinct experts per MoE layer] | {unit} read per step | {unit} per token | bound on t/s ratio vs 1 stream |")
    print("|---:|---:|---:|---:|---:|")
    for B in streams:
        by = step_bytes(shape, B, kv_token_bytes, context)
        print(f"| {B} | {distinct_experts(shape['E'], shape['k'], B):.1f} | {by / div:.3f} | {by / B / div:.3f} | "
              f"{moe_bound(shape, B, kv_token_bytes, context):.2f}x |")
    need = next((B for B in range(1, 1025) if moe_bound(shape, B, kv_token_bytes, context) >= 4), None)
    print()
    print(f"(a 4x ratio needs at least {need} streams under this bound: each added stream brings in "
          f"{shape['k']} more expert picks per MoE layer, and until nearly all {shape['E']} experts are in use most of "
          f"them are experts no other stream picked)" if need else "(the bound never reaches 4x)")
    print()


# ----------------------------------------------------------------------------------------------
# HTTP.

class Server:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"

    def post(self, path, body):
        req = urllib.request.Request(self.base + path, json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
        return urllib.request.urlopen(req, timeout=3600)

    def metrics(self):
        """The engine's step and routed-expert counters from /metrics (Prometheus text)."""
        with urllib.request.urlopen(self.base + "/metrics", timeout=60) as r:
            values = {}
            for line in r.read().decode().splitlines():
                name, _, value = line.partition(" ")
                if name in ("dsv2_engine_steps_total", "dsv2_moe_routed_experts_read_total", "dsv2_moe_layers"):
                    values[name] = float(value)
            return values

    def sse(self, path, body):
        """Yields (seconds since the request was sent, parsed event) for each SSE data line."""
        t0 = time.perf_counter()
        with self.post(path, body) as r:
            for line in r:
                line = line.decode().strip()
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                yield time.perf_counter() - t0, json.loads(line[6:])


# ----------------------------------------------------------------------------------------------
# 1. Aggregate generation throughput.

# One prompt per stream, all different (different tokens, so different routing and different
# output): identical greedy prompts would decode identical tokens through identical experts and
# overstate what batching buys a MoE model.
PROMPTS = [
    "def quicksort(items):\n    \"\"\"Sort a list in place and return it.\"\"\"\n",
    "#include <stdio.h>\n\nint main(int argc, char **argv) {\n    FILE *f = fopen(argv[1], \"r\");\n",
    "SELECT customer_id, SUM(amount) AS total\nFROM payments\nWHERE created_at >= '2024-01-01'\n",
    "The Roman Empire reached its greatest extent under Trajan, when the provinces of",
    "// Parse an HTTP/1.1 request line into method, target and version.\nfn parse_request_line(line: &str) ->",
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n  <meta charset=\"utf-8\">\n  <title>Dashboard</title>\n",
    "Dear hiring committee,\n\nI am writing to apply for the position of senior data engineer",
    "package main\n\nimport (\n\t\"fmt\"\n\t\"net/http\"\n)\n\nfunc handler(w http.ResponseWriter, r *http.Request) {\n",
]


def stream_completion(srv, prompt, n_predict, out, stop=None):
    """One /completion stream; out gets (t_sent, [(t, tokens so far)], final record, text), the
    marks list filled live. With `stop` (a threading.Event) it hangs up once that is set."""
    t_sent = time.perf_counter()
    marks, final, text = [], None, ""
    out.append((t_sent, marks, None, ""))
    body = {"prompt": prompt, "n_predict": n_predict, "ignore_eos": True, "stream": True, "temperature": 0}
    for t, ev in srv.sse("/completion", body):
        if "error" in ev:
            raise RuntimeError(f"/completion failed: {ev['error']}")
        text += ev.get("content", "")
        marks.append((t_sent + t, ev["tokens_predicted"]))
        if ev.get("stop"):
            final = ev
        if stop is not None and stop.is_set():
            break  # closing the connection cancels the request
    out[0] = (t_sent, marks, final, text)


def throughput_one(srv, args):
    """Single-stream runs, the base of the ratios when --streams leaves 1 out."""
    return [throughput(srv, 1, args.n_predict, r) for r in range(args.reps)]


def throughput(srv, streams, n_predict, rotate):
    prompts = [PROMPTS[(rotate + i) % len(PROMPTS)] for i in range(streams)]
    results = [[] for _ in range(streams)]
    ts = [threading.Thread(target=stream_completion, args=(srv, prompts[i], n_predict, results[i]))
          for i in range(streams)]
    m0 = srv.metrics()
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    t_end = time.perf_counter()
    m1 = srv.metrics()
    # Routing as it happened: distinct experts per MoE layer and step, over this run's steps
    # (its few prompt steps included, which pick a little more than decode steps do).
    steps = m1["dsv2_engine_steps_total"] - m0["dsv2_engine_steps_total"]
    experts = m1["dsv2_moe_routed_experts_read_total"] - m0["dsv2_moe_routed_experts_read_total"]
    layers = m1.get("dsv2_moe_layers", 0)
    routed = experts / (steps * layers) if steps > 0 and layers > 0 else float("nan")
    if any(not r or r[0][2] is None for r in results):
        raise RuntimeError("a stream ended without its final record")
    runs = [r[0] for r in results]
    counts = [run[2]["tokens_predicted"] for run in runs]
    texts = [run[3] for run in runs]

    # Steady state: from the moment every stream has its first token to the moment the first
    # stream ends, all `streams` sequences decode together; tokens in that window / its length.
    def count_at(marks, t):
        c = 0
        for tm, n in marks:
            if tm <= t:
                c = n
        return c
    w0 = max(run[1][0][0] for run in runs)
    w1 = min(run[1][-1][0] for run in runs)
    window_tokens = sum(count_at(run[1], w1) - count_at(run[1], w0) for run in runs)
    wall_tps = sum(counts) / (t_end - t0)
    # No window when the streams barely overlap (a model so small that one ends before the last
    # starts): then the wall-clock rate stands in, marked in the table.
    windowed = w1 > w0 and window_tokens > 0
    decode_tps = window_tokens / (w1 - w0) if windowed else wall_tps
    return {"counts": counts, "decode": decode_tps, "wall": wall_tps, "distinct": len(set(texts)),
            "windowed": windowed, "routed": routed}


# ----------------------------------------------------------------------------------------------
# 2. Time to first token for FIM prompts.

NOUNS = ["order", "invoice", "packet", "buffer", "record", "session", "token", "config", "metric", "user",
         "account", "report", "segment", "ticket", "channel", "frame", "batch", "job", "queue", "node",
         "edge", "route", "cache", "shard", "schema", "payload", "header", "cursor", "snapshot", "ledger"]
VERBS = ["load", "parse", "compute", "merge", "validate", "render", "flush", "fetch", "encode", "decode",
         "resolve", "normalize", "collect", "split", "build", "apply", "filter", "score", "emit", "sync"]
ADJS = ["pending", "active", "stale", "raw", "cached", "remote", "local", "primary", "partial", "unique"]
MODULES = ["os", "re", "sys", "json", "time", "math", "logging", "hashlib", "itertools", "functools",
           "collections", "dataclasses", "pathlib", "typing", "statistics", "heapq", "bisect", "csv"]


def camel(*words):
    return "".join(w.capitalize() for w in words)


def py_block(rng, i):
    """One top-level Python definition, chosen and filled at random (so the file is not one
    function repeated)."""
    n, m, v, a = rng.choice(NOUNS), rng.choice(NOUNS), rng.choice(VERBS), rng.choice(ADJS)
    k1, k2 = rng.randint(2, 97), rng.randint(100, 9999)
    kind = i % 8 if i < 8 else rng.randrange(8)
    if kind == 0:
        return (f"@dataclass\nclass {camel(a, n)}:\n    \"\"\"A {a} {n} as stored in the {m} table.\"\"\"\n\n"
                f"    {n}_id: int\n    name: str = \"\"\n    {m}_ids: list[int] = field(default_factory=list)\n"
                f"    weight: float = {k1 / 10:.1f}\n    created_at: float = 0.0\n\n"
                f"    def is_{a}(self) -> bool:\n        return self.weight > {k1 / 20:.2f} and bool(self.{m}_ids)\n")
    if kind == 1:
        return (f"def {v}_{n}s(items: Iterable[dict], limit: int = {k1}) -> list[dict]:\n"
                f"    \"\"\"{v.capitalize()} up to `limit` {n}s, skipping the {a} ones.\"\"\"\n"
                f"    out = []\n    for item in items:\n        if item.get(\"{a}\"):\n            continue\n"
                f"        if len(out) >= limit:\n            log.debug(\"{n} limit %d reached\", limit)\n            break\n"
                f"        out.append({{**item, \"{m}\": item.get(\"{m}\", {k1})}})\n    return out\n")
    if kind == 2:
        return (f"class {camel(n, 'store')}:\n    def __init__(self, path: Path, capacity: int = {k2}):\n"
                f"        self.path = path\n        self.capacity = capacity\n        self._{n}s: dict[str, {camel(a, n)}] = {{}}\n"
                f"        self._lock = threading.Lock()\n\n"
                f"    def get(self, key: str) -> Optional[{camel(a, n)}]:\n        with self._lock:\n            return self._{n}s.get(key)\n\n"
                f"    def put(self, key: str, value: {camel(a, n)}) -> None:\n        with self._lock:\n"
                f"            if len(self._{n}s) >= self.capacity:\n                self._{n}s.pop(next(iter(self._{n}s)))\n"
                f"            self._{n}s[key] = value\n")
    if kind == 3:
        return (f"def {v}_{m}_index(rows: list[tuple[str, int]]) -> dict[str, int]:\n"
                f"    index = {{name: count for name, count in rows if count > {k1}}}\n"
                f"    total = sum(index.values()) or 1\n"
                f"    return {{name: round(100 * count / total) for name, count in sorted(index.items())}}\n")
    if kind == 4:
        return (f"def read_{n}_file(path: str) -> list[str]:\n    try:\n        with open(path, encoding=\"utf-8\") as f:\n"
                f"            lines = [line.rstrip(\"\\n\") for line in f if not line.startswith(\"#\")]\n"
                f"    except FileNotFoundError:\n        log.warning(\"no {n} file at %s\", path)\n        return []\n"
                f"    except UnicodeDecodeError as e:\n        raise ValueError(f\"{{path}}: not UTF-8 ({{e}})\") from e\n"
                f"    return lines[:{k2}]\n")
    if kind == 5:
        return (f"async def {v}_{n}(client, {n}_id: int, retries: int = {k1 % 5 + 1}) -> dict:\n"
                f"    for attempt in range(retries):\n        response = await client.get(f\"/api/{n}s/{{{n}_id}}\")\n"
                f"        if response.status == 200:\n            return await response.json()\n"
                f"        await asyncio.sleep(0.{k1:02d} * (attempt + 1))\n"
                f"    raise TimeoutError(f\"{n} {{{n}_id}} unavailable after {{retries}} tries\")\n")
    if kind == 6:
        return (f"{n.upper()}_PATTERN = re.compile(r\"^(?P<{n}>[a-z_]+)-(?P<{m}>\\d{{{k1 % 6 + 1}}})$\")\n\n\n"
                f"def split_{n}_key(key: str) -> tuple[str, int]:\n    match = {n.upper()}_PATTERN.match(key)\n"
                f"    if match is None:\n        raise KeyError(key)\n    return match.group(\"{n}\"), int(match.group(\"{m}\"))\n")
    return (f"def {v}_{a}_{m}s(values: list[float], window: int = {k1 % 12 + 2}) -> list[float]:\n"
            f"    if len(values) < window:\n        return []\n    result = []\n"
            f"    acc = sum(values[:window])\n    result.append(acc / window)\n"
            f"    for i in range(window, len(values)):\n        acc += values[i] - values[i - window]\n"
            f"        result.append(round(acc / window, {k1 % 4 + 1}))\n    return result\n")


def py_file_blocks(seed, n_blocks):
    rng = random.Random(seed)
    mods = sorted(rng.sample(MODULES, 7))
    head = (f"\"\"\"{camel(rng.choice(NOUNS), 'service')}: {rng.choice(VERBS)}s and {rng.choice(VERBS)}s "
            f"{rng.choice(NOUNS)}s for the {rng.choice(NOUNS)} pipeline.\"\"\"\n"
            "import asyncio\nimport threading\n" + "".join(f"import {m}\n" for m in mods) +
            "from dataclasses import dataclass, field\nfrom pathlib import Path\n"
            "from typing import Iterable, Optional\n\nlog = logging.getLogger(__name__)\n"
            f"MAX_{rng.choice(NOUNS).upper()}S = {rng.randint(10, 5000)}\n")
    return [head] + [py_block(rng, i) for i in range(n_blocks)]


def count_tokens(dsv2, model, text):
    out = subprocess.run([dsv2, "tokenize", "-m", model, "-f", "-", "--no-bos"], input=text.encode(),
                         capture_output=True, check=True).stdout.split()
    return len(out)


def code_file(seed, target_tokens, dsv2, model):
    """A Python file of about target_tokens tokens: the number of blocks that comes closest
    (binary search)."""
    def text(n):
        return "\n\n".join(py_file_blocks(seed, n)) + "\n\n\nif __name__ == \"__main__\":\n    main()\n"
    lo, hi = 1, 200
    while lo < hi:
        mid = (lo + hi) // 2
        if count_tokens(dsv2, model, text(mid)) < target_tokens:
            lo = mid + 1
        else:
            hi = mid
    if lo > 1 and target_tokens - count_tokens(dsv2, model, text(lo - 1)) < count_tokens(dsv2, model, text(lo)) - target_tokens:
        lo -= 1
    return text(lo)


def edit_line(line):
    """A one-line edit: bump the first number on the line, or append a comment."""
    for i, ch in enumerate(line):
        if ch.isdigit():
            j = i
            while j < len(line) and line[j].isdigit():
                j += 1
            return line[:i] + str(int(line[i:j]) + 1) + line[j:]
    return line + "  # TODO: check"


def cursor_split(text, where):
    """(prefix, suffix, edited prefix) for a cursor at `where` (fraction of the lines), placed in
    the middle of a non-blank line (the user is typing it), and an edit to the nearest non-blank
    line above it."""
    lines = text.split("\n")
    c = int(len(lines) * where)
    while c < len(lines) - 1 and len(lines[c].strip()) < 6:
        c += 1
    cut = len(lines[c]) - len(lines[c].lstrip()) + (len(lines[c].strip()) // 2)
    before, cur, after = lines[:c], lines[c], lines[c + 1:]
    e = len(before) - 1
    while e > 0 and not before[e].strip():
        e -= 1
    edited = before[:e] + [edit_line(before[e])] + before[e + 1:]
    prefix = "\n".join(before) + "\n" + cur[:cut]
    suffix = cur[cut:] + "\n" + "\n".join(after)
    return prefix, suffix, "\n".join(edited) + "\n" + cur[:cut]


def fim_request(srv, endpoint, prefix, suffix):
    """Streams one FIM request asking for a single token; returns (TTFT ms, prompt tokens, cached).
    TTFT: request sent -> first SSE event (with max_tokens 1 the one token and the end come
    together, so a first token that decodes to no text cannot hide)."""
    if endpoint == "/v1/completions":
        body = {"model": "bench", "prompt": prefix, "suffix": suffix, "max_tokens": 1, "temperature": 0,
                "stream": True, "stream_options": {"include_usage": True}}
    else:
        body = {"input_prefix": prefix, "input_suffix": suffix, "n_predict": 1, "temperature": 0,
                "stream": True, "cache_prompt": True}
    first, prompt_tokens, cached = None, None, None
    for t, ev in srv.sse(endpoint, body):
        if "error" in ev:
            raise RuntimeError(f"{endpoint} failed: {ev['error']}")
        if first is None:
            first = t
        if ev.get("usage"):
            prompt_tokens = ev["usage"]["prompt_tokens"]
            cached = ev["usage"]["prompt_tokens_details"]["cached_tokens"]
        if ev.get("stop") and "timings" in ev:
            prompt_tokens, cached = ev["tokens_evaluated"], ev["timings"]["cache_n"]
    return first * 1e3, prompt_tokens, cached


def ttft(srv, args, endpoint, seed):
    """Cold, then a one-line edit right above the cursor, for a cursor near the end (short
    suffix) and one in the middle (long suffix); each on its own file so that "cold" is cold.

    DeepSeek's FIM order is prefix-suffix-middle: <｜fim▁begin｜>prefix<｜fim▁hole｜>suffix<｜fim▁end｜>.
    An edit in the prefix changes the token sequence at the edit, so everything after it is
    recomputed: the rest of the prefix *and the whole suffix*. With the cursor near the end of
    the file that is a few dozen tokens; with the cursor in the middle it is half the file."""
    rows = []
    for label, where, s in (("cursor near the end (short suffix)", 0.97, seed),
                            ("cursor in the middle (long suffix)", 0.5, seed + 1)):
        text = code_file(s, args.fim_tokens, args.dsv2, args.model)
        prefix, suffix, edited = cursor_split(text, where)
        colds, warms = [], []
        for rep in range(args.ttft_reps):
            if rep > 0:  # a fresh cold file per repetition (a different seed: nothing to reuse)
                text = code_file(s + 1000 * rep, args.fim_tokens, args.dsv2, args.model)
                prefix, suffix, edited = cursor_split(text, where)
            colds.append(fim_request(srv, endpoint, prefix, suffix))
            warms.append(fim_request(srv, endpoint, edited, suffix))
        cold = statistics.median(c[0] for c in colds)
        warm = statistics.median(w[0] for w in warms)
        rows.append((label, "cold", colds[-1], cold, cold))
        rows.append((label, "one-line edit above the cursor", warms[-1], warm, cold))
    return rows


# ----------------------------------------------------------------------------------------------
# 3. Decode stall while a long prompt is prefilled.

def stall(srv, args):
    """4 streams decode; once each has a few tokens, a cold ~1,500-token FIM prompt arrives.
    Reports the prompt's TTFT and the decoders' gaps between tokens before it and while it is
    processed (with --step-tokens S the prompt takes ceil(n / S) steps, each one a decode step
    for the others too)."""
    n_dec = 4
    results = [[] for _ in range(n_dec)]
    stop = threading.Event()
    ts = [threading.Thread(target=stream_completion, args=(srv, PROMPTS[i], 2000, results[i], stop))
          for i in range(n_dec)]
    for t in ts:
        t.start()
    text = code_file(args.seed + 77, args.fim_tokens, args.dsv2, args.model)
    prefix, suffix, _ = cursor_split(text, 0.97)
    while not all(r and len(r[0][1]) >= 4 for r in results):
        time.sleep(0.01)
    t_fim = time.perf_counter()
    ms, n, cached = fim_request(srv, "/v1/completions", prefix, suffix)
    t_fim_end = time.perf_counter()
    time.sleep(min(2.0, (t_fim_end - t_fim) / 4))
    stop.set()
    for t in ts:
        t.join()
    gaps_during, gaps_before, during = [], [], 0  # ms between a decoder's consecutive chunks
    for r in results:
        marks = r[0][1]
        for (ta, na), (tb, nb) in zip(marks, marks[1:]):
            if ta < t_fim_end and tb > t_fim:
                gaps_during.append((tb - ta) * 1e3)
                if tb <= t_fim_end:
                    during += nb - na
            elif tb <= t_fim:
                gaps_before.append((tb - ta) * 1e3 / max(1, nb - na))
    return {"ttft": ms, "prompt": n, "cached": cached, "gap_max": max(gaps_during, default=float("nan")),
            "gap_before": statistics.median(gaps_before) if gaps_before else float("nan"),
            "during": during / n_dec}


# ----------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int)
    ap.add_argument("--model", required=True)
    ap.add_argument("--dsv2", default="build/dsv2")
    ap.add_argument("--threads", default="?")
    ap.add_argument("--streams", default="1,4,8")
    ap.add_argument("--n-predict", type=int, default=128)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--ttft-reps", type=int, default=1)
    ap.add_argument("--fim-tokens", type=int, default=1500)
    ap.add_argument("--cache-type", default="f32")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--skip", default="", help="comma list of sections to skip: throughput,ttft,infill")
    ap.add_argument("--stall", action="store_true", help="also measure decode stalls under a long prefill")
    ap.add_argument("--bound-only", action="store_true")
    args = ap.parse_args()
    streams = [int(s) for s in args.streams.split(",")]
    skip = set(filter(None, args.skip.split(",")))

    shape = model_shape(args.model)
    kv_tok = kv_bytes_per_token(shape, args.cache_type)
    context = 32 + args.n_predict // 2  # a throughput stream's mean context: prompt + half its output
    if args.bound_only:
        print_bound(shape, streams, kv_tok, context)
        return

    srv = Server(args.port)
    print(f"model: {args.model}; threads: {args.threads}; load average at start: "
          f"{os.getloadavg()[0]:.2f}")
    print()
    # Warm-up: every prompt once (pages in the weights, touches the experts, grows the scratch).
    throughput(srv, min(8, len(PROMPTS)), 4, 0)

    if "throughput" not in skip:
        rows = []
        for B in streams:
            reps = [throughput(srv, B, args.n_predict, r) for r in range(args.reps)]
            rows.append((B, reps))
        one = [reps for B, reps in rows if B == 1]
        base = statistics.median(r["decode"] for r in (one[0] if one else throughput_one(srv, args)))
        print(f"generation: {args.n_predict} tokens per stream (ignore_eos), a different prompt per stream, "
              f"median of {args.reps}; decode t/s = tokens while all streams decode / that time, "
              f"wall t/s = all tokens / request time (includes the prompts)")
        print()
        print("| concurrent streams | tokens per stream | distinct outputs | aggregate decode t/s | wall t/s | "
              "ratio to 1 stream | bound (uniform routing) | distinct experts per MoE layer-step (measured) | "
              "bound (measured routing) | ratio / bound |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for B, reps in rows:
            dec = statistics.median(r["decode"] for r in reps)
            wall = statistics.median(r["wall"] for r in reps)
            counts = sorted(set(c for r in reps for c in r["counts"]))
            distinct = min(r["distinct"] for r in reps)
            mark = "" if all(r["windowed"] for r in reps) else " (wall)"
            routed = statistics.median(r["routed"] for r in reps)
            bound = moe_bound(shape, B, kv_tok, context, routed)
            print(f"| {B} | {'/'.join(map(str, counts))} | {distinct}/{B} | {dec:.2f}{mark} | {wall:.2f} | "
                  f"{dec / base:.2f}x | {moe_bound(shape, B, kv_tok, context):.2f}x | {routed:.1f} | {bound:.2f}x | "
                  f"{100 * dec / base / bound:.0f}% |")
        print()
        print_bound(shape, streams, kv_tok, context)

    if "ttft" not in skip:
        endpoints = ["/v1/completions"] + ([] if "infill" in skip else ["/infill"])
        print(f"time to first token, ~{args.fim_tokens}-token FIM prompt (one token requested; "
              f"median of {args.ttft_reps}); PSM order: an edit in the prefix recomputes the suffix too")
        print()
        print("| endpoint | cursor | request | prompt tokens | cached tokens reused | recomputed | TTFT (ms) | % of cold |")
        print("|---|---|---|---:|---:|---:|---:|---:|")
        for i, ep in enumerate(endpoints):
            for label, what, (ms, n, cached), med, cold in ttft(srv, args, ep, args.seed + 10 * i):
                print(f"| `{ep}` | {label} | {what} | {n} | {cached} | {n - cached} | {med:.0f} | "
                      f"{100 * med / cold:.1f}% |")
        print()

    if args.stall:
        s = stall(srv, args)
        print(f"decode stall: 4 streams decoding, then a cold {s['prompt']}-token FIM prompt "
              f"({s['cached']} cached): its TTFT {s['ttft']:.0f} ms; the decoders' median time per token before it "
              f"{s['gap_before']:.0f} ms, {s['during']:.1f} tokens each and the largest gap between tokens "
              f"{s['gap_max']:.0f} ms while it was processed")


if __name__ == "__main__":
    main()
