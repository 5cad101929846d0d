#!/usr/bin/env bash
# Throughput and agreement of verity's math verifier vs Hugging Face math-verify on the same
# 20k labelled pairs (make_corpus.py --pairs), with short and ~2,000-char predictions,
# on 1 and 2 cores. Peak memory from /usr/bin/time -v.
#
# usage: bench/math/run.sh [SHARED_DIR] [VENV]    (defaults: ../shared, /work/venv)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SHARED="${1:-$ROOT/../shared}"
VENV="${2:-/work/venv}"
OUT="${OUT:-/tmp/verity-math-bench}"
mkdir -p "$OUT"
cd "$ROOT"

python3 "$SHARED/bench/make_corpus.py" --pairs --seed 1 --seed-problems "$SHARED/data/gsm8k/test.jsonl" -o "$OUT/pairs.jsonl" >/dev/null
python3 "$SHARED/bench/make_corpus.py" --pairs --seed 1 --seed-problems "$SHARED/data/gsm8k/test.jsonl" --pred-chars 2000 -o "$OUT/pairs_trace.jsonl" >/dev/null

cargo build --release -q -p verity-math --no-default-features --example math_pairs
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/math_pairs"

peak() { grep "Maximum resident" "$1" | awk '{print $NF}'; }

printf "%-12s %-6s %-5s %12s %10s %10s\n" input tool cores pairs_per_s agreement peak_kb
for input in pairs pairs_trace; do
  for cores in 1 2; do
    # verity: repeat the 20k pairs 10 times so the timing is not dominated by startup
    /usr/bin/time -v "$BIN" "$OUT/$input.jsonl" --threads "$cores" --repeat 10 >"$OUT/v_${input}_$cores.json" 2>"$OUT/v_${input}_$cores.time"
    /usr/bin/time -v "$VENV/bin/python" "$ROOT/bench/math/mathverify_pairs.py" "$OUT/$input.jsonl" --procs "$cores" >"$OUT/m_${input}_$cores.json" 2>"$OUT/m_${input}_$cores.time"
    python3 - "$OUT" "$input" "$cores" <<'PY'
import json, sys, re
out, inp, cores = sys.argv[1:]
def peak(p):
    for l in open(p):
        if "Maximum resident" in l:
            return int(l.split()[-1])
v = json.load(open(f"{out}/v_{inp}_{cores}.json"))
m = json.load(open(f"{out}/m_{inp}_{cores}.json"))
vp, mp = peak(f"{out}/v_{inp}_{cores}.time"), peak(f"{out}/m_{inp}_{cores}.time")
print(f"{inp:<12} {'verity':<6} {cores:<5} {v['pairs_per_sec']:>12.0f} {v['agreement']:>10.4f} {vp:>10}")
print(f"{inp:<12} {'mv':<6} {cores:<5} {m['pairs_per_sec']:>12.0f} {m['agreement']:>10.4f} {mp:>10}")
print(f"{inp:<12} ratio  {cores:<5} {v['pairs_per_sec']/m['pairs_per_sec']:>11.0f}x")
PY
  done
done
