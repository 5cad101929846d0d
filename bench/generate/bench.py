"""Generation client benchmark: `verity generate` vs openai.AsyncOpenAI + asyncio, in one run,
against the same local server that answers instantly (crates/verity-gen/examples/instant_server.rs).

For each concurrency (64 and 256 by default) both clients send one chat completion per task
for the same TASKS tasks; the script reports requests/s (wall), CPU per request (user + sys of
the client process only, from wait4) and peak RSS, and the ratios verity / peer. verity runs
with a fresh request cache each time (so every request is sent, and each reply is committed to
SQLite as in real use). Run from the repository root:

    python3 bench/generate/bench.py --python .venv/bin/python --tasks 20000
    python3 bench/generate/bench.py --tasks 1000000 --only verity --concurrency 256   # memory

Needs: cargo, and a Python with `openai` for the peer.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time


def build() -> tuple[str, str]:
    env = dict(os.environ, CARGO_TARGET_DIR=os.environ.get("CARGO_TARGET_DIR", "target"))
    subprocess.run(["cargo", "build", "--release", "-p", "verity-cli"], check=True, env=env)
    subprocess.run(
        ["cargo", "build", "--release", "-p", "verity-gen", "--features", "testing",
         "--example", "instant_server"],
        check=True,
        env=env,
    )
    target = env["CARGO_TARGET_DIR"]
    return (os.path.join(target, "release", "verity"),
            os.path.join(target, "release", "examples", "instant_server"))


def measure(cmd: list[str], env=None) -> dict:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{cmd[0]} failed:\n{err}")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "max_rss_mb": usage.ru_maxrss / 1024}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--tasks", type=int, default=20000)
    p.add_argument("--concurrency", type=int, nargs="+", default=[64, 256])
    p.add_argument("--python", default=sys.executable, help="a Python with `openai` (the peer)")
    p.add_argument("--only", choices=["verity", "peer"], default=None)
    p.add_argument("--server-threads", type=int, default=1)
    p.add_argument("--out", default=None, help="write the results as JSON here")
    a = p.parse_args()
    verity, server_bin = build()
    server = subprocess.Popen([server_bin, "0", str(a.server_threads)], stdout=subprocess.PIPE, text=True)
    url = server.stdout.readline().strip()
    results = {"tasks": a.tasks, "server": url, "runs": []}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            tasks = os.path.join(tmp, "tasks.jsonl")
            with open(tasks, "w") as f:
                for i in range(a.tasks):
                    f.write(json.dumps({"question": f"What is {i} plus {i}?", "answer": f"#### {2 * i}"}) + "\n")
            for c in a.concurrency:
                row = {"concurrency": c}
                if a.only in (None, "verity"):
                    cache = os.path.join(tmp, f"cache-{c}.sqlite")
                    row["verity"] = measure([
                        verity, "-q", "generate", tasks, "-o", os.path.join(tmp, f"v-{c}.jsonl"),
                        "--base-url", url, "--model", "bench", "--concurrency", str(c),
                        "--temperature", "0.7", "--max-tokens", "64", "--seed", "0",
                        "--cache", cache, "--no-hash", "--no-ledger",
                    ], env=dict(os.environ, VERITY_NO_PROGRESS="1"))
                if a.only in (None, "peer"):
                    row["peer"] = measure([
                        a.python, os.path.join(os.path.dirname(__file__), "peer_openai.py"),
                        tasks, os.path.join(tmp, f"p-{c}.jsonl"), "--base-url", url,
                        "--model", "bench", "--concurrency", str(c),
                    ])
                for who in ("verity", "peer"):
                    if who in row:
                        r = row[who]
                        r["requests_per_s"] = a.tasks / r["wall_s"]
                        r["cpu_ms_per_request"] = 1000 * r["cpu_s"] / a.tasks
                if "verity" in row and "peer" in row:
                    row["ratio_requests_per_s"] = row["verity"]["requests_per_s"] / row["peer"]["requests_per_s"]
                    row["ratio_cpu_per_request"] = row["verity"]["cpu_ms_per_request"] / row["peer"]["cpu_ms_per_request"]
                results["runs"].append(row)
                print(json.dumps(row), flush=True)
    finally:
        server.kill()
    if a.out:
        with open(a.out, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
