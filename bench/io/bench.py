#!/usr/bin/env python3
"""JSONL ingest benchmark: verity vs orjson on the same file, in one run.

For each input file it measures, with /usr/bin/time (wall seconds and peak RSS):
  - `cat FILE > /dev/null`            raw read speed (page cache warm; best of 3)
  - orjson read + write (1 core)      bench/io/orjson_roundtrip.py
  - verity convert --to flat          rows -> records -> the same layout (A -> record -> A)
  - verity convert --to verity        rows -> records written as verity record JSON
each verity run with 1 and 2 threads. Every run is repeated (REPEAT, default 3) and the fastest
wall time is kept, for orjson as for verity, so a moment of load from other processes does not
decide the ratio. The output file is deleted before each run (untimed), so every run writes a
new file. Prints a table with MB/s and the ratios verity / orjson and verity / cat, and
writes the figures to bench/io/results-<name>.json.

Usage: [REPEAT=3] python3 bench/io/bench.py FILE [FILE...]
  (build first: cargo build --release -p verity-cli; PYTHON defaults to /work/venv/bin/python)
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
PYTHON = os.environ.get("PYTHON", "/work/venv/bin/python")
REPEAT = int(os.environ.get("REPEAT", "3"))


def timed(cmd, env=None, fresh=None):
    """Run cmd under /usr/bin/time -v; return (wall seconds, peak RSS MiB, CPU seconds).

    `fresh`: an output path deleted before the run (outside the timing), so every run writes a
    new file and no run pays for dropping the previous run's output from the page cache."""
    if fresh and os.path.exists(fresh):
        os.remove(fresh)
    full = ["/usr/bin/time", "-v"] + cmd
    proc = subprocess.run(full, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", proc.stderr).group(1)
    parts = [float(p) for p in wall.split(":")]
    seconds = parts[-1] + 60 * parts[-2] + (3600 * parts[-3] if len(parts) > 2 else 0)
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    user = float(re.search(r"User time \(seconds\): (\S+)", proc.stderr).group(1))
    system = float(re.search(r"System time \(seconds\): (\S+)", proc.stderr).group(1))
    return seconds, rss_kb / 1024, user + system


def main(files):
    results = []
    for f in files:
        size = os.path.getsize(f)
        mb = size / 1e6
        rows = []
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "out.jsonl")
            cat = min(timed(["sh", "-c", f"cat '{f}' > /dev/null"]) for _ in range(3))
            rows.append(("cat (raw read)", 1, *cat))
            orj = min(timed([PYTHON, str(ROOT / "bench/io/orjson_roundtrip.py"), f, out], fresh=out)
                      for _ in range(REPEAT))
            rows.append(("orjson read+write", 1, *orj))
            for to in ["flat", "verity"]:
                for threads in [1, 2]:
                    env = dict(os.environ, VERITY_THREADS=str(threads), VERITY_NO_PROGRESS="1")
                    t = min(timed([str(VERITY), "convert", "-q", "--no-ledger", "--no-hash",
                                   "--to", to, f, "-o", out], env=env, fresh=out)
                            for _ in range(REPEAT))
                    rows.append((f"verity convert --to {to}", threads, *t))
        print(f"\n{f}: {mb:.0f} MB")
        print(f"{'run':<28} {'threads':>7} {'wall s':>8} {'cpu s':>7} {'MB/s':>8} {'peak MiB':>9} {'x orjson':>9} {'of cat':>7}")
        base = orj[0]
        for name, threads, wall, rss, cpu in rows:
            print(f"{name:<28} {threads:>7} {wall:>8.2f} {cpu:>7.2f} {mb / wall:>8.0f} {rss:>9.0f} "
                  f"{base / wall:>9.2f} {cat[0] / wall:>7.2f}")
        results.append({
            "file": f, "bytes": size,
            "load_average_1m": os.getloadavg()[0],
            "repeat": REPEAT,
            "runs": [{"run": n, "threads": t, "wall_s": w, "cpu_s": c, "mb_per_s": mb / w, "peak_mib": r,
                      "ratio_vs_orjson": base / w, "fraction_of_cat": cat[0] / w}
                     for n, t, w, r, c in rows],
        })
        name = Path(f).stem
        (ROOT / f"bench/io/results-{name}.json").write_text(json.dumps(results[-1], indent=2) + "\n")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    main(sys.argv[1:])
