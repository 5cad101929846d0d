#!/usr/bin/env python3
"""Run Hugging Face math-verify over a JSONL of {gold, pred, expected} pairs.

usage: mathverify_pairs.py FILE [--procs N] [--gold-field gold] [--pred-field pred]
       [--label-field expected] [--no-wrap]

Bare gold answers are wrapped in $...$ (math-verify's LaTeX extractor needs delimiters;
this is the configuration under which math-verify 0.9.0 scores best on the grader cases).
Prints one JSON line: pairs, seconds, pairs/s, agreement with the label field.
"""
import argparse
import json
import sys
import time
from multiprocessing import Pool

from math_verify import parse, verify


def wrap(g):
    g = g.strip()
    if "\\boxed" in g or "$" in g or "####" in g:
        return g
    return "$" + g + "$"


ARGS = None


def one(pair):
    gold, pred = pair
    try:
        g = parse(wrap(gold) if not ARGS.no_wrap else gold)
        p = parse(pred)
        return bool(verify(g, p))
    except Exception:
        return False


def init(a):
    global ARGS
    ARGS = a


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--procs", type=int, default=1)
    ap.add_argument("--gold-field", default="gold")
    ap.add_argument("--pred-field", default="pred")
    ap.add_argument("--label-field", default="expected")
    ap.add_argument("--no-wrap", action="store_true")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    init(a)
    pairs, labels = [], []
    with open(a.file) as f:
        for line in f:
            if not line.strip():
                continue
            d = json.loads(line)
            pairs.append((str(d[a.gold_field]), str(d[a.pred_field])))
            labels.append(d.get(a.label_field))
    if a.limit:
        pairs, labels = pairs[: a.limit], labels[: a.limit]
    t0 = time.perf_counter()
    if a.procs > 1:
        with Pool(a.procs, initializer=init, initargs=(a,)) as pool:
            res = pool.map(one, pairs, chunksize=64)
    else:
        res = [one(p) for p in pairs]
    secs = time.perf_counter() - t0
    agree = sum(1 for r, l in zip(res, labels) if l is not None and r == bool(l))
    labelled = sum(1 for l in labels if l is not None)
    if a.out:
        with open(a.out, "w") as f:
            for r in res:
                f.write(json.dumps(r) + "\n")
    print(json.dumps({
        "tool": "math-verify",
        "file": a.file,
        "pairs": len(pairs),
        "procs": a.procs,
        "seconds": secs,
        "pairs_per_sec": len(pairs) / secs,
        "labelled": labelled,
        "agree": agree,
        "agreement": agree / labelled if labelled else 0.0,
    }))


if __name__ == "__main__":
    sys.exit(main())
