#!/usr/bin/env python3
"""Decontamination speed: `verity decontam` against the parse + write-back floor, one run.

    python3 bench/dedup/bench_decontam.py CORPUS [CORPUS...] [--verity target/release/verity]
        [--threads 2] [--repeat 3] [--work /tmp] [--out bench/dedup/results-decontam.json]
        [--baseline OLD_BIN]

For each corpus (a make_corpus.py file with its `.bench.jsonl` held-out benchmark beside it),
runs, interleaved `--repeat` times so that load changes hit every command alike:

1. `verity convert CORPUS -o OUT --to verity` (parse + write back: the floor of any stage),
2. `verity decontam CORPUS -o OUT --against CORPUS.bench.jsonl --report R` (target (a): records/s),
3. `verity decontam CORPUS -o OUT --against builtin:all` (target (b): within 2x of 1.),

and with `--baseline OLD_BIN` also 3. with that binary (an interleaved before/after A/B),
all with `--threads N --no-hash --no-ledger -q`, under GNU time (wall, user+sys CPU seconds,
peak RSS), with the 1-minute load average before each command. Outputs are deleted after each
command (disk). With `--drop-caches` (root only) the page cache is emptied once before the runs
and the corpus read back into it: a page cache full of earlier outputs makes the kernel reclaim
while the runs write theirs, which showed up as 1-3 s of extra system time per 1M run, at
random, and moved the ratios by up to 10%. The first repeat's report of 2. is scored with eval_quality.py (recall, false
flags). Prints a table per corpus (median wall and CPU of the repeats) and writes the raw runs
as JSON; the ratios are of the medians, and also the median of the per-round ratios (each
command against the convert run of the same round).

Targets (issue #5): (a) >= 30x datatrove NGramsDecontFilter's ~3,600 records/s, i.e. >= 108,000
records/s for 2.; (b) 3. on the 1M corpus within 2x the wall time of 1.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def timed(cmd):
    """Run cmd under GNU time: (wall s, cpu s, peak MiB, load average before)."""
    load = os.getloadavg()[0]
    full = ["/usr/bin/time", "-f", "TIME %e %U %S %M"] + cmd
    proc = subprocess.run(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-3000:])
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}")
    m = re.findall(r"TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)", proc.stderr)[-1]
    return {"wall_s": float(m[0]), "cpu_s": round(float(m[1]) + float(m[2]), 2),
            "user_s": float(m[1]), "sys_s": float(m[2]),
            "peak_mib": round(int(m[3]) / 1024, 1), "load_before": round(load, 2)}


def count_lines(path):
    n = 0
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 24), b""):
            n += block.count(b"\n")
    return n


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="+")
    parser.add_argument("--verity", default=os.path.join(HERE, "../../target/release/verity"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", default="/tmp")
    parser.add_argument("--out", default=os.path.join(HERE, "results-decontam.json"))
    parser.add_argument("--baseline", help="another verity binary: also run 3. with it (A/B)")
    parser.add_argument("--drop-caches", action="store_true",
                        help="empty the page cache before the runs (root), then read the corpus")
    args = parser.parse_args()
    common = ["--no-hash", "--no-ledger", "-q"]
    verity = [args.verity, "--threads", str(args.threads)]
    results = {}
    for corpus in args.corpus:
        name = os.path.basename(corpus).replace(".jsonl", "")
        bench_file = corpus.replace(".jsonl", ".bench.jsonl")
        records = count_lines(corpus)
        size = os.path.getsize(corpus)
        out = os.path.join(args.work, f"verity-decontam-bench-{os.getpid()}.jsonl")
        report = os.path.join(args.work, f"verity-decontam-bench-{os.getpid()}.report.jsonl")
        commands = {
            "convert": verity + ["convert", corpus, "-o", out, "--to", "verity"] + common,
            "decontam_heldout": verity + ["decontam", corpus, "-o", out, "--against", bench_file,
                                          "--report", report] + common,
            "decontam_builtin_all": verity + ["decontam", corpus, "-o", out, "--against", "builtin:all"] + common,
        }
        if args.baseline:
            commands["decontam_builtin_all_baseline"] = (
                [args.baseline, "--threads", str(args.threads), "decontam", corpus, "-o", out,
                 "--against", "builtin:all"] + common)
        runs = {k: [] for k in commands}
        quality = None
        if args.drop_caches:
            os.sync()
            with open("/proc/sys/vm/drop_caches", "w") as f:
                f.write("3\n")
            count_lines(corpus)
        for rep in range(args.repeat):
            for key, cmd in commands.items():
                r = timed(cmd)
                os.remove(out)
                # Untimed: flush the removed output's writeback so it does not run during the
                # next command (at 1M each output is ~4 GB).
                os.sync()
                if key == "decontam_heldout" and rep == 0:
                    q = subprocess.run([sys.executable, os.path.join(HERE, "eval_quality.py"), "decontam",
                                        "--corpus", corpus, "--report", report],
                                       stdout=subprocess.PIPE, text=True, check=True).stdout
                    quality = json.loads(q)
                    quality.pop("missed_examples", None)
                    quality.pop("false_examples", None)
                if os.path.exists(report):
                    os.remove(report)
                runs[key].append(r)
                print(json.dumps({"corpus": name, "run": key, "repeat": rep, **r}), flush=True)
        summary = {}
        for key, rs in runs.items():
            wall = statistics.median(r["wall_s"] for r in rs)
            cpu = statistics.median(r["cpu_s"] for r in rs)
            summary[key] = {"wall_s": wall, "cpu_s": cpu, "min_wall_s": min(r["wall_s"] for r in rs),
                            "user_s": statistics.median(r["user_s"] for r in rs),
                            "peak_mib": max(r["peak_mib"] for r in rs),
                            "records_per_s": round(records / wall),
                            "load": [r["load_before"] for r in rs]}
        conv = summary["convert"]
        ratios = {
            "heldout_records_per_s": summary["decontam_heldout"]["records_per_s"],
            "heldout_x_datatrove_3600": round(summary["decontam_heldout"]["records_per_s"] / 3600, 1),
            "heldout_over_convert_wall": round(summary["decontam_heldout"]["wall_s"] / conv["wall_s"], 2),
            "builtin_all_over_convert_wall": round(summary["decontam_builtin_all"]["wall_s"] / conv["wall_s"], 2),
            "builtin_all_over_convert_cpu": round(summary["decontam_builtin_all"]["cpu_s"] / conv["cpu_s"], 2),
            "builtin_all_over_convert_user": round(summary["decontam_builtin_all"]["user_s"] / conv["user_s"], 2),
        }
        def per_round(key):
            return round(statistics.median(
                a["wall_s"] / c["wall_s"] for a, c in zip(runs[key], runs["convert"])), 2)

        ratios["builtin_all_over_convert_wall_per_round"] = per_round("decontam_builtin_all")
        if args.baseline:
            ratios["baseline_builtin_all_over_convert_wall_per_round"] = per_round(
                "decontam_builtin_all_baseline")
        if args.baseline:
            base = summary["decontam_builtin_all_baseline"]
            ratios["baseline_builtin_all_over_convert_wall"] = round(base["wall_s"] / conv["wall_s"], 2)
            ratios["baseline_builtin_all_over_convert_cpu"] = round(base["cpu_s"] / conv["cpu_s"], 2)
            ratios["baseline_builtin_all_over_convert_user"] = round(base["user_s"] / conv["user_s"], 2)
        results[name] = {"records": records, "bytes": size, "threads": args.threads, "runs": runs,
                         "summary": summary, "ratios": ratios, "quality_heldout": quality}
        print(f"\n{name}: {records} records, {size / 1e6:.0f} MB, --threads {args.threads}, "
              f"median of {args.repeat}")
        print(f"{'run':<30} {'wall s':>8} {'CPU s':>8} {'user s':>8} {'rec/s':>9} {'peak MiB':>9}  load")
        for key, s in summary.items():
            print(f"{key:<30} {s['wall_s']:>8.2f} {s['cpu_s']:>8.2f} {s['user_s']:>8.2f} "
                  f"{s['records_per_s']:>9} {s['peak_mib']:>9}  {s['load']}")
        print(json.dumps({"ratios": ratios, "quality_heldout": quality}))
    with open(args.out, "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
