#!/usr/bin/env python3
"""Peer run: datasketch MinHash (num_perm=128) + MinHashLSH on problem + "\\n" + trace.

Shingles: 5-word shingles of the lowercased whitespace-split words (the corpus README's
definition). Every record is inserted, then queried; candidates are merged with union-find
(no verification, as MinHashLSH users do). Writes clusters as JSONL (`{"members": [{"id"}]}`)
for eval_quality.py and prints a JSON line with wall time and peak RSS.

    /work/venv/bin/python peer_datasketch.py CORPUS REPORT [--threshold 0.8]
"""
import argparse
import json
import resource
import time

import orjson
from datasketch import MinHash, MinHashLSH


def shingles(text, n=5):
    words = text.lower().split()
    if len(words) < n:
        return {" ".join(words).encode()}
    return {" ".join(words[i : i + n]).encode() for i in range(len(words) - n + 1)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus")
    parser.add_argument("report")
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument("--num-perm", type=int, default=128)
    args = parser.parse_args()
    start = time.perf_counter()
    lsh = MinHashLSH(threshold=args.threshold, num_perm=args.num_perm)
    ids = []
    sigs = []
    with open(args.corpus, "rb") as f:
        for i, line in enumerate(f):
            row = orjson.loads(line)
            m = MinHash(num_perm=args.num_perm)
            m.update_batch(list(shingles(row["problem"] + "\n" + row["trace"])))
            lsh.insert(i, m)
            ids.append(row["id"])
            sigs.append(m)
    parent = list(range(len(ids)))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, m in enumerate(sigs):
        for j in lsh.query(m):
            a, b = find(i), find(j)
            if a != b:
                parent[max(a, b)] = min(a, b)
    clusters = {}
    for i in range(len(ids)):
        clusters.setdefault(find(i), []).append(i)
    with open(args.report, "w") as out:
        for members in clusters.values():
            if len(members) > 1:
                out.write(json.dumps({"members": [{"id": ids[m]} for m in members]}) + "\n")
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    b, r = lsh.b, lsh.r
    print(json.dumps({"tool": "datasketch", "wall_s": round(wall, 2), "peak_mib": round(peak, 1), "bands": b, "rows": r}))


if __name__ == "__main__":
    main()
