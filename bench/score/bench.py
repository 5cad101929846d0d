#!/usr/bin/env python3
"""Scoring benchmark: `verity score` (with and without token counting) next to the raw read
speed of the same file, in one run.

For the input file it measures, with /usr/bin/time (wall seconds, peak RSS):
  - `cat FILE > /dev/null`                          raw read speed (page cache warm; best of 3)
  - `verity convert --to verity`                    JSONL -> records -> record JSONL (the
                                                    foundation benchmark's "raw JSONL-to-records"
                                                    run; same read and write work as score)
  - `verity score --tokenizer none`                 every signal except token counts
  - `verity score` (cl100k_base, fast exact path)   every signal with token counts
  - `verity score --tokenizer o200k_base`           cached chunks counted by tiktoken (no
                                                    scanner of its own), on the first SUBSET
                                                    records only
all with VERITY_THREADS (default 2). Each verity run is repeated REPEATS times (env, default 1;
runs of different commands interleave) and the fastest wall time is kept, with its CPU seconds
(user + sys) and the load average before it: the machine is shared, so read the ratios within
one run. Prints records/s, MB/s and the fraction of the convert speed (by wall time and by CPU
time), and writes bench/score/results-<name>.json with the commit.

With DROP_CACHES=1 (root) the page cache is emptied once before the runs and FILE read back
into it: a page cache full of earlier multi-GB outputs adds 1-3 s of system time to a 1M run at
random (see bench/dedup/README.md, sixth session).

Usage: python3 bench/score/bench.py FILE [SUBSET_ROWS]
  (build first: cargo build --release -p verity-cli; VERITY=path/to/verity to use another build)
"""
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VERITY = Path(os.environ.get("VERITY", ROOT / "target" / "release" / "verity"))
THREADS = os.environ.get("VERITY_THREADS", "2")
REPEATS = int(os.environ.get("REPEATS", "1"))


def timed(cmd, env=None):
    """(wall s, peak MiB, CPU s, load average before the run)."""
    load = os.getloadavg()[0]
    full = ["/usr/bin/time", "-v"] + cmd
    proc = subprocess.run(full, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(map(str, cmd))}\n{proc.stderr[-2000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", proc.stderr).group(1)
    parts = [float(p) for p in wall.split(":")]
    seconds = parts[-1] + 60 * parts[-2] + (3600 * parts[-3] if len(parts) > 2 else 0)
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    user = float(re.search(r"User time \(seconds\): (\S+)", proc.stderr).group(1))
    system = float(re.search(r"System time \(seconds\): (\S+)", proc.stderr).group(1))
    return seconds, rss_kb / 1024, user + system, load


def fresh(out):
    """Untimed, before each run: remove the previous run's output and flush dirty pages, so a
    run neither pays for dropping the last output at its rename nor writes behind another
    run's writeback (at 1M each output is ~4 GB)."""
    if os.path.exists(out):
        os.remove(out)
    os.sync()


ROUNDS = {}


def best_of(named_cmds, env, out):
    """Run every command REPEATS times, interleaved; keep each one's fastest wall time, and
    every round's times in ROUNDS (for the per-round ratios: a slow spell of the machine or
    of the kernel's writeback hits the runs of one round alike)."""
    best = {}
    for _ in range(REPEATS):
        for name, cmd in named_cmds:
            fresh(out)
            r = timed(cmd, env=env)
            ROUNDS.setdefault(name, []).append(r)
            if name not in best or r[0] < best[name][0]:
                best[name] = r
    return [(name, best[name]) for name, _ in named_cmds]


def per_round(name, base):
    """Median over rounds of base/name by wall time and by CPU time (None without rounds)."""
    runs, bases = ROUNDS.get(name, []), ROUNDS.get(base, [])
    if not runs or len(runs) != len(bases):
        return None, None
    wall = sorted(b[0] / r[0] for r, b in zip(runs, bases))
    cpu = sorted(b[2] / r[2] for r, b in zip(runs, bases) if r[2] > 0)
    med = lambda xs: xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2
    return med(wall), (med(cpu) if cpu else None)


def count_lines(path):
    n = 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 24), b""):
            n += chunk.count(b"\n")
    return n


def main(path, subset):
    size = os.path.getsize(path)
    rows = count_lines(path)
    env = dict(os.environ, VERITY_THREADS=THREADS, VERITY_NO_PROGRESS="1")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.jsonl")
        sub = os.path.join(tmp, "subset.jsonl")
        with open(path, "rb") as src, open(sub, "wb") as dst:
            for i, line in enumerate(src):
                if i >= subset:
                    break
                dst.write(line)
        sub_size, sub_rows = os.path.getsize(sub), min(subset, rows)
        if os.environ.get("DROP_CACHES") == "1":
            os.sync()
            with open("/proc/sys/vm/drop_caches", "w") as f:
                f.write("3\n")
            count_lines(path)
            count_lines(sub)
        cat = min(timed(["sh", "-c", f"cat '{path}' > /dev/null"]) for _ in range(3))
        results.append(("cat (raw read)", size, rows, *cat))
        common = ["-q", "--no-ledger", "--no-hash", path, "-o", out]
        runs = [
            ("convert --to verity", ["convert", "--to", "verity"] + common),
            ("score --tokenizer none", ["score", "--tokenizer", "none"] + common),
            ("score (cl100k_base)", ["score"] + common),
        ]
        for name, r in best_of([(n, [str(VERITY)] + a) for n, a in runs], env, out):
            results.append((name, size, rows, *r))
        sub_common = ["-q", "--no-ledger", "--no-hash", sub, "-o", out]
        sub_runs = [
            ("subset: convert --to verity", ["convert", "--to", "verity"] + sub_common),
            ("subset: score (cl100k_base)", ["score"] + sub_common),
            ("subset: score (o200k_base, cached chunks)", ["score", "--tokenizer", "o200k_base"] + sub_common),
        ]
        for name, r in best_of([(n, [str(VERITY)] + a) for n, a in sub_runs], env, out):
            results.append((name, sub_size, sub_rows, *r))
    convert = {r[1]: r[3] for r in results if "convert" in r[0]}
    convert_cpu = {r[1]: r[5] for r in results if "convert" in r[0]}
    commit = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                            capture_output=True, text=True).stdout.strip()
    print(f"\n{path}: {size / 1e6:.0f} MB, {rows} records; subset {sub_rows} records, {sub_size / 1e6:.0f} MB; "
          f"threads {THREADS}; best of {REPEATS}; commit {commit}; {os.cpu_count()} CPUs")
    print(f"{'run':<44} {'wall s':>8} {'CPU s':>7} {'rec/s':>9} {'MB/s':>7} {'peak MiB':>9} "
          f"{'load':>5} {'of convert':>11} {'(CPU)':>6} {'per round':>10} {'(CPU)':>6}")
    table = []
    for name, nbytes, nrows, wall, rss, cpu, load in results:
        wall = max(wall, 0.01)  # /usr/bin/time reports to 10 ms: a tiny file can read in "0"
        frac = convert.get(nbytes, 0) / wall if "cat" not in name else None
        frac_cpu = convert_cpu.get(nbytes, 0) / cpu if "cat" not in name and cpu > 0 else None
        base = "subset: convert --to verity" if name.startswith("subset") else "convert --to verity"
        round_wall, round_cpu = per_round(name, base) if "cat" not in name else (None, None)
        fmt = lambda x, w: "" if x is None else f"{x:>{w}.2f}"
        print(f"{name:<44} {wall:>8.2f} {cpu:>7.2f} {nrows / wall:>9.0f} {nbytes / 1e6 / wall:>7.1f} {rss:>9.0f} "
              f"{load:>5.1f} {fmt(frac, 11)} {fmt(frac_cpu, 6)} {fmt(round_wall, 10)} {fmt(round_cpu, 6)}")
        table.append({"run": name, "bytes": nbytes, "records": nrows, "wall_s": wall, "cpu_s": cpu,
                      "records_per_s": nrows / wall, "mb_per_s": nbytes / 1e6 / wall,
                      "peak_mib": rss, "load_avg_before": load,
                      "fraction_of_convert": frac, "fraction_of_convert_cpu": frac_cpu,
                      "fraction_of_convert_per_round_median": round_wall,
                      "fraction_of_convert_cpu_per_round_median": round_cpu,
                      "rounds": [{"wall_s": r[0], "cpu_s": r[2]} for r in ROUNDS.get(name, [])]})
    name = Path(path).name.split(".")[0]
    (ROOT / f"bench/score/results-{name}.json").write_text(
        json.dumps({"file": path, "threads": THREADS, "repeats": REPEATS, "commit": commit,
                    "runs": table}, indent=2) + "\n")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 50_000)
