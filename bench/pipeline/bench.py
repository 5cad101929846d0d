#!/usr/bin/env python3
"""Benchmark: the RLVR recipe on the 1M-record corpus, against reading the same file.

Usage (repository root; a release build: `cargo build --release -p verity-cli`):

    python3 bench/pipeline/bench.py --corpus /path/corpus1m.jsonl [--verity target/release/verity]

The corpus comes from `shared/bench/make_corpus.py` (see its README):
    python3 make_corpus.py --n 1000000 --seed 1 --seed-problems ../data/gsm8k/test.jsonl \
        --seed-tag gsm8k_test -o corpus1m.jsonl      # also writes corpus1m.bench.jsonl

In the same run it measures, each with /usr/bin/time (wall, peak RSS), page cache warm:
  1. `cat CORPUS > /dev/null`                 the physical limit of reading the file
  2. `verity inspect CORPUS`                  read + parse + map every row to a record
  3. `verity run rlvr_corpus.toml --fresh`    the pipeline (normalize, verify math, score with
                                              cl100k tokens, select, dedup, decontam, verl parquet)
and prints the pipeline's per-stage CPU share from the ledger, ratios against 1 and 2, and the
dedup memory estimate (450 B + 2 x id bytes per record entering dedup).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


def timed(cmd, **kw):
    r = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        print(r.stdout[-3000:], r.stderr[-3000:])
        sys.exit(f"failed: {' '.join(cmd)}")
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", r.stderr).group(1)
    parts = [float(p) for p in wall.split(":")]
    secs = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1)) / 1024
    return secs, rss, r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--bench", help="benchmark problems (default: CORPUS with .bench.jsonl)")
    ap.add_argument("--verity", default=os.path.join(ROOT, "target", "release", "verity"))
    ap.add_argument("--out", default=None, help="output directory (default: a temp dir)")
    args = ap.parse_args()
    corpus = os.path.abspath(args.corpus)
    bench = args.bench or re.sub(r"\.jsonl$", ".bench.jsonl", corpus)
    size = os.path.getsize(corpus)
    tmp = tempfile.mkdtemp(prefix="verity-bench-")
    out = args.out or os.path.join(tmp, "out")
    recipe = os.path.join(tmp, "rlvr_corpus.toml")
    text = open(os.path.join(HERE, "rlvr_corpus.toml.in")).read()
    open(recipe, "w").write(text.replace("@CORPUS@", corpus).replace("@BENCH@", bench).replace("@OUT@", out))

    subprocess.run(["cat", corpus], stdout=subprocess.DEVNULL, check=True)  # warm the page cache
    cat_s, cat_rss, _ = timed(["sh", "-c", f"cat '{corpus}' > /dev/null"])
    insp_s, insp_rss, _ = timed([args.verity, "--no-progress", "-q", "inspect", corpus])
    run_s, run_rss, _ = timed([args.verity, "--no-progress", "-q", "run", recipe, "--fresh"])

    ledger = [json.loads(l) for l in open(os.path.join(out, "ledger.jsonl"))]
    cpu = {e["stage"]: e["summary"].get("cpu_seconds", 0.0) for e in ledger if isinstance(e.get("summary"), dict)}
    total_cpu = sum(cpu.values()) or 1.0
    dedup = next(e for e in ledger if e["stage"] == "dedup")
    n_dedup = dedup["rows_in"]
    id_len = 8  # corpus ids are r0000000
    print(f"input: {corpus} ({size / 1e9:.2f} GB, {ledger[0]['rows_in']:,} rows)")
    print(f"{'run':<34}{'wall s':>9}{'GB/s':>7}{'peak RSS MB':>13}")
    for name, s, rss in [("cat > /dev/null", cat_s, cat_rss), ("verity inspect (read+parse)", insp_s, insp_rss),
                         ("verity run (RLVR recipe)", run_s, run_rss)]:
        print(f"{name:<34}{s:>9.1f}{size / 1e9 / s:>7.2f}{rss:>13.0f}")
    print(f"ratios: run / inspect = {run_s / insp_s:.2f}x wall, run / cat = {run_s / cat_s:.1f}x wall")
    print("funnel:")
    for e in ledger:
        share = 100 * cpu.get(e["stage"], 0) / total_cpu if e["stage"] in cpu else None
        s = f"{share:5.1f}% of stage CPU" if share is not None else ""
        print(f"  {e['stage']:<10} {e['rows_in']:>9,} -> {e['rows_out']:>9,}  {s}")
    est = n_dedup * (450 + 2 * id_len) / 2**20
    print(f"dedup: {n_dedup:,} records in, index {dedup['summary'].get('index_bytes', 0) / 2**20:.0f} MB measured, "
          f"formula (450 + 2 x id bytes) x n = {est:.0f} MB")
    json.dump({"bytes": size, "cat_s": cat_s, "inspect_s": insp_s, "inspect_rss_mb": insp_rss, "run_s": run_s,
               "run_rss_mb": run_rss, "cpu_seconds": cpu, "dedup_in": n_dedup,
               "funnel": [(e["stage"], e["rows_in"], e["rows_out"]) for e in ledger]},
              open(os.path.join(tmp, "bench.json"), "w"), indent=1)
    print(f"details: {tmp}/bench.json, outputs in {out}")


if __name__ == "__main__":
    main()
