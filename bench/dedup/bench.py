#!/usr/bin/env python3
"""Dedup and decontamination benchmark: verity against its peers on the same corpus, one run.

    python3 bench.py [--corpus /tmp/corpus.jsonl] [--verity target/release/verity] [--skip-peers]
                     [--datatrove-limit 5000] [--big /tmp/corpus1m.jsonl]

Needs the labelled corpus (see README.md for the make_corpus.py command; its `.bench.jsonl`
beside it is the held-out benchmark) and the peers in /work/venv (datasketch; datatrove + spacy
for NGramsDecontFilter). Measures wall time and peak RSS (GNU time) of:

1. `verity dedup` at the defaults (view trace = problem + trace, word 5-shingles, 128 bins,
   threshold 0.7) vs datasketch MinHash(num_perm=128) + MinHashLSH(threshold=0.8);
   quality of both with eval_quality.py.
2. `verity decontam --against CORPUS.bench.jsonl` (13-grams + short/fuzzy matcher) vs datatrove's
   NGramsDecontFilter (13-grams) on the first `--datatrove-limit` records (it is slow; its
   records/s is what is compared); quality with eval_quality.py.
3. With `--big`: `verity decontam --against builtin:all` vs `verity convert` (parse + write
   back, the floor for any stage) on the big corpus.
Prints one JSON line per measurement and the ratios at the end.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
VENV_PY = "/work/venv/bin/python"


def timed(cmd, **kw):
    """Run cmd under GNU time; return (wall seconds, peak MiB, stdout)."""
    full = ["/usr/bin/time", "-f", "TIME %e %M"] + cmd
    proc = subprocess.run(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if proc.returncode not in (0, 1):
        sys.stderr.write(proc.stderr[-3000:])
        raise SystemExit(f"failed: {' '.join(cmd)}")
    m = re.findall(r"TIME ([\d.]+) (\d+)", proc.stderr)[-1]
    return float(m[0]), int(m[1]) / 1024, proc.stdout


def evaluate(task, corpus, report):
    out = subprocess.run([sys.executable, os.path.join(HERE, "eval_quality.py"), task, "--corpus", corpus, "--report", report],
                         stdout=subprocess.PIPE, text=True, check=True).stdout
    return json.loads(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default="/tmp/corpus.jsonl")
    parser.add_argument("--verity", default=os.path.join(HERE, "../../target/release/verity"))
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--datatrove-limit", type=int, default=5000)
    parser.add_argument("--big", help="a large corpus (e.g. 1M records) for the builtin:all decontam vs parse run")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    bench_file = args.corpus.replace(".jsonl", ".bench.jsonl")
    work = tempfile.mkdtemp(prefix="verity-dedup-bench-")
    verity = [args.verity, "--threads", str(args.threads)]
    results = {}

    # 1. dedup
    report = os.path.join(work, "dedup.report.jsonl")
    wall, mem, _ = timed(verity + ["dedup", args.corpus, "-o", os.path.join(work, "dedup.jsonl"), "--report", report, "--no-hash", "--no-ledger"])
    q = evaluate("dedup", args.corpus, report)
    results["verity_dedup"] = {"wall_s": wall, "peak_mib": round(mem, 1), **q}
    print(json.dumps(results["verity_dedup"]))
    if not args.skip_peers:
        peer_report = os.path.join(work, "datasketch.report.jsonl")
        wall, mem, out = timed([VENV_PY, os.path.join(HERE, "peer_datasketch.py"), args.corpus, peer_report])
        q = evaluate("dedup", args.corpus, peer_report)
        results["datasketch"] = {"wall_s": wall, "peak_mib": round(mem, 1), **q, **json.loads(out.strip().splitlines()[-1])}
        print(json.dumps(results["datasketch"]))

    # 2. decontam against the held-out benchmark
    report = os.path.join(work, "decontam.report.jsonl")
    wall, mem, _ = timed(verity + ["decontam", args.corpus, "-o", os.path.join(work, "decontam.jsonl"), "--against", bench_file, "--report", report, "--no-hash", "--no-ledger"])
    q = evaluate("decontam", args.corpus, report)
    n = q["labelled"] + (sum(1 for _ in open(args.corpus, "rb")) - q["labelled"])
    results["verity_decontam"] = {"wall_s": wall, "peak_mib": round(mem, 1), "records_per_s": round(n / wall, 1), **q}
    print(json.dumps(results["verity_decontam"]))
    if not args.skip_peers:
        peer_report = os.path.join(work, "datatrove.report.jsonl")
        wall, mem, out = timed([VENV_PY, os.path.join(HERE, "peer_datatrove_decont.py"), args.corpus, bench_file, peer_report, "--limit", str(args.datatrove_limit)])
        results["datatrove_decont"] = {"peak_mib": round(mem, 1), **json.loads(out.strip().splitlines()[-1])}
        print(json.dumps(results["datatrove_decont"]))

    # 3. big corpus: decontam against builtin:all vs parse + write back
    if args.big:
        wall_convert, mem_c, _ = timed(verity + ["convert", args.big, "-o", os.path.join(work, "big.convert.jsonl"), "--no-hash", "--no-ledger"])
        os.remove(os.path.join(work, "big.convert.jsonl"))
        wall_decontam, mem_d, _ = timed(verity + ["decontam", args.big, "-o", os.path.join(work, "big.decontam.jsonl"), "--against", "builtin:all", "--no-hash", "--no-ledger"])
        os.remove(os.path.join(work, "big.decontam.jsonl"))
        results["big"] = {"convert_wall_s": wall_convert, "convert_peak_mib": round(mem_c, 1),
                          "decontam_builtin_all_wall_s": wall_decontam, "decontam_peak_mib": round(mem_d, 1),
                          "decontam_over_convert": round(wall_decontam / wall_convert, 2)}
        print(json.dumps(results["big"]))

    ratios = {}
    if "datasketch" in results:
        ratios["dedup_speedup_vs_datasketch"] = round(results["datasketch"]["wall_s"] / results["verity_dedup"]["wall_s"], 1)
        ratios["dedup_memory_ratio_vs_datasketch"] = round(results["datasketch"]["peak_mib"] / results["verity_dedup"]["peak_mib"], 2)
    if "datatrove_decont" in results:
        ratios["decontam_speedup_vs_datatrove"] = round(results["verity_decontam"]["records_per_s"] / results["datatrove_decont"]["records_per_s"], 1)
    print(json.dumps({"ratios": ratios}))


if __name__ == "__main__":
    main()
