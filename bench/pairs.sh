#!/usr/bin/env bash
# Generation speed against llama.cpp, interleaved: dsv2, llama.cpp, dsv2, llama.cpp, ..., dsv2
# on the same file and threads, so every llama.cpp run is bracketed by two dsv2 runs taken
# minutes apart at most. A shared machine's memory bandwidth drifts within minutes (the Zen 4 VMs
# this was written on switch between ~30-40 and ~50-60 GB/s), and decode is bandwidth-bound, so
# a ratio is only meaningful between neighbouring runs; dsv2's runs carry their own bandwidth
# probe, which says which stretch each bracket ran in.
# Prints one row per llama.cpp run (the dsv2 runs before and after it, their probes and roofline
# shares, both ratios) and a summary: all ratios, and those of brackets whose two dsv2 probes lie
# in BAND (default 45-60 GB/s: the read bandwidth issue 4 gives for its 2-core target machine).
# Usage: bench/pairs.sh MODEL.gguf [pairs=6] [threads=2] [tg=16] [reps=3]
#   e.g. bench/pairs.sh models/lite-q8_0.gguf 6 2 16 3
# BUILD=dir (default build) holds dsv2; BAND="45 60" sets the band.
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:?usage: bench/pairs.sh MODEL.gguf [pairs] [threads] [tg] [reps]}
pairs=${2:-6} threads=${3:-2} tg=${4:-16} reps=${5:-3}
dsv2=${BUILD:-build}/dsv2
read -r band_lo band_hi <<<"${BAND:-45 60}"
[ -x "$dsv2" ] || { echo "no dsv2 binary at $dsv2 (BUILD=dir)" >&2; exit 2; }

field() { grep -o "\"$1\": *[0-9.]*" | head -n 1 | sed 's/.*: *//'; }
dsv2_run() {  # prints "t/s probe roofline%"
  local line
  line=$("$dsv2" bench -m "$model" -t "$threads" -p 0 -n "$tg" -r "$reps" -o json | grep "\"tg$tg\"")
  echo "$(field tps <<<"$line") $(field read_gbs <<<"$line") $(field roofline_pct <<<"$line")"
}
llama_run() {  # prints t/s
  bench/llama_cpp.sh "$model" "$threads" 0 "$tg" "$reps" -o json 2>/dev/null | field mean
}

runs=()
for ((i = 0; i < pairs; ++i)); do
  runs+=("$(dsv2_run)")
  runs+=("$(llama_run)")
  echo "pair $((i + 1)) of $pairs done ($(date +%T))" >&2
done
runs+=("$(dsv2_run)")

echo "tg$tg, $model, $threads threads, $reps repetitions per run; ratio = dsv2 / llama.cpp"
echo
echo "| llama.cpp run | dsv2 before (t/s, probe GB/s, roofline) | llama.cpp t/s | dsv2 after | ratio before / after |"
echo "|---:|---|---:|---|---|"
printf '%s\n' "${runs[@]}" | awk -v lo="$band_lo" -v hi="$band_hi" '
  NR % 2 == 1 { d[++nd] = $1; p[nd] = $2; r[nd] = $3 }
  NR % 2 == 0 { l[++nl] = $1 }
  function ok(i) { return p[i] >= lo && p[i] <= hi }
  END {
    for (i = 1; i <= nl; ++i) {
      a = d[i] / l[i]; b = d[i + 1] / l[i]
      printf "| %d | %.2f (%.1f, %.0f%%) | %.2f | %.2f (%.1f, %.0f%%) | %.2fx / %.2fx |\n", i, d[i], p[i], r[i], l[i], d[i + 1], p[i + 1], r[i + 1], a, b
      all[++n] = a; all[++n] = b
      if (ok(i) && ok(i + 1)) { in_band[++m] = a; in_band[++m] = b }
    }
    summary("all ratios", all, n)
    summary(sprintf("brackets with both dsv2 probes in %s-%s GB/s", lo, hi), in_band, m)
  }
  function summary(what, v, k,    i, j, t, s, at) {
    if (k == 0) { printf "\n%s: none\n", what; return }
    for (i = 1; i <= k; ++i) for (j = i + 1; j <= k; ++j) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    for (i = 1; i <= k; ++i) { s += v[i]; if (v[i] >= 1.5) ++at }
    printf "\n%s (%d): mean %.2fx, median %.2fx, min %.2fx, max %.2fx; %d of %d at >= 1.5x\n", what, k, s / k,
           (k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2), v[1], v[k], at, k
  }'
