#!/usr/bin/env python3
"""Near-duplicate dedup speed and quality: verity against datasketch and datatrove, one run.

    python3 bench/dedup/bench_dedup.py CORPUS [--verity target/release/verity] [--threads 2]
        [--repeat 3] [--peers datasketch,datatrove] [--datatrove-workers 2]
        [--out bench/dedup/results-dedup-100k.json]

On one make_corpus.py corpus (labels `dup_of`), runs under GNU time (wall, user+sys CPU of the
process and its reaped children, peak RSS of the largest process) with the resident memory of the
whole process tree sampled every 0.1 s (datatrove runs worker processes), in this order:

1. `verity dedup CORPUS` at its defaults (view trace = problem + trace, word 5-shingles,
   128 bins, threshold 0.7 -> 14 x 9 bands), `--repeat` times;
2. datasketch `MinHash(num_perm=128)` + `MinHashLSH(threshold=0.8)` (`peer_datasketch.py`,
   one process: datasketch has no parallel mode);
3. datatrove's MinHash dedup, its four stages at its defaults (`peer_datatrove_minhash.py`,
   `--datatrove-workers` worker processes);
4. `verity dedup` again `--repeat` times (so that a load change during the long peer runs shows).

Every report is scored with eval_quality.py (pair precision / recall). verity's figure is the
best wall time of its runs (its CPU seconds and memory are from that run); the ratios are
peer / verity for wall time, CPU seconds and peak memory (of the process tree). The load average before each run is
recorded: on a shared machine compare CPU seconds.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
VENV_PY = "/work/venv/bin/python"


def tree_rss_mib(root):
    """Sum of the resident memory of `root` and all its descendants, MiB (from /proc)."""
    parent, rss = {}, {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                parent[int(pid)] = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{pid}/statm") as f:
                rss[int(pid)] = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    tree, frontier = {root}, [root]
    while frontier:
        p = frontier.pop()
        for c, pp in parent.items():
            if pp == p and c not in tree:
                tree.add(c)
                frontier.append(c)
    return sum(rss.get(p, 0) for p in tree) / (1 << 20)


def timed(cmd):
    """Run cmd under GNU time: wall s, cpu s (user+sys of it and its reaped children), peak MiB
    of the largest single process (GNU time), peak MiB of the whole process tree (sampled every
    0.1 s from /proc: datatrove runs several worker processes), load average before, stdout."""
    load = os.getloadavg()[0]
    full = ["/usr/bin/time", "-f", "TIME %e %U %S %M"] + cmd
    proc = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak_tree = [0.0]
    done = threading.Event()

    def sample():
        while not done.wait(0.1):
            peak_tree[0] = max(peak_tree[0], tree_rss_mib(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = proc.communicate()
    done.set()
    sampler.join()
    if proc.returncode != 0:
        sys.stderr.write(stderr[-3000:])
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}")
    m = re.findall(r"TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)", stderr)[-1]
    peak = round(int(m[3]) / 1024, 1)
    return {"wall_s": float(m[0]), "cpu_s": round(float(m[1]) + float(m[2]), 2), "peak_mib": peak,
            "peak_tree_mib": round(max(peak, peak_tree[0]), 1), "load_before": round(load, 2)}, stdout


def evaluate(corpus, report):
    out = subprocess.run([sys.executable, os.path.join(HERE, "eval_quality.py"), "dedup", "--corpus", corpus, "--report", report],
                         stdout=subprocess.PIPE, text=True, check=True).stdout
    q = json.loads(out)
    return {"precision": q["precision"], "recall": q["recall"], "predicted_pairs": q["predicted_pairs"], "true_pairs": q["true_pairs"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus")
    parser.add_argument("--verity", default=os.path.join(HERE, "../../target/release/verity"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--peers", default="datasketch,datatrove")
    parser.add_argument("--datatrove-workers", type=int, default=2)
    parser.add_argument("--work", default=None, help="scratch directory (default: a temp dir, removed)")
    parser.add_argument("--out", help="write all runs as JSON here")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="dedup-bench-", dir=args.work)
    peers = [p for p in args.peers.split(",") if p]
    runs = {"verity": [], "machine": {"cpus": os.cpu_count()}}

    def run_verity():
        out, report = os.path.join(work, "dedup.jsonl"), os.path.join(work, "dedup.report.jsonl")
        for _ in range(args.repeat):
            for path in (out, report):
                if os.path.exists(path):
                    os.remove(path)
            r, _ = timed([args.verity, "--threads", str(args.threads), "-q", "dedup", args.corpus, "-o", out,
                          "--report", report, "--no-hash", "--no-ledger"])
            r.update(evaluate(args.corpus, report))
            runs["verity"].append(r)
            print(json.dumps({"tool": "verity dedup", **r}), flush=True)

    run_verity()
    if "datasketch" in peers:
        report = os.path.join(work, "datasketch.report.jsonl")
        r, out = timed([VENV_PY, os.path.join(HERE, "peer_datasketch.py"), args.corpus, report])
        r.update(evaluate(args.corpus, report))
        r["self_reported"] = json.loads(out.strip().splitlines()[-1])
        runs["datasketch"] = r
        print(json.dumps({"tool": "datasketch", **r}), flush=True)
    if "datatrove" in peers:
        report = os.path.join(work, "datatrove.report.jsonl")
        r, out = timed([VENV_PY, os.path.join(HERE, "peer_datatrove_minhash.py"), args.corpus, report,
                        "--workers", str(args.datatrove_workers), "--work", os.path.join(work, "datatrove")])
        r.update(evaluate(args.corpus, report))
        r["self_reported"] = json.loads(out.strip().splitlines()[-1])
        runs["datatrove"] = r
        print(json.dumps({"tool": "datatrove minhash", **r}), flush=True)
    if peers:
        run_verity()

    best = min(runs["verity"], key=lambda r: r["wall_s"])
    ratios = {}
    for peer in peers:
        p = runs[peer]
        ratios[peer] = {"wall_x": round(p["wall_s"] / best["wall_s"], 1), "cpu_x": round(p["cpu_s"] / best["cpu_s"], 1),
                        "memory_x": round(p["peak_tree_mib"] / best["peak_tree_mib"], 2)}
    runs["verity_best"] = best
    runs["ratios"] = ratios
    print(json.dumps({"verity_best": best, "ratios": ratios}), flush=True)
    if args.out:
        tmp = args.out + ".tmp"
        with open(tmp, "w") as f:
            json.dump(runs, f, indent=1)
        os.replace(tmp, args.out)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
