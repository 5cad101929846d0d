#!/usr/bin/env python3
"""math-verify 0.9.x on the public graders' test cases (crates/verity-math/tests/data/cases.jsonl),
agreement per suite, in the configuration the collection's README uses: bare answers wrapped
in $...$. Prints per-suite counts and the cases math-verify gets wrong.

usage: grader_cases_mathverify.py [CASES]
"""
import json
import sys
from collections import defaultdict

from math_verify import parse, verify


def wrap(s, form):
    if form and form.startswith("bare"):
        return "$" + s + "$"
    return s


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "crates/verity-math/tests/data/cases.jsonl"
    per = defaultdict(lambda: [0, 0])
    removed = [0, 0]
    wrong = []
    for line in open(path):
        d = json.loads(line)
        c = d["config"]
        try:
            got = bool(verify(parse(wrap(d["gold"], c.get("gold_form"))), parse(wrap(d["pred"], c.get("pred_form")))))
        except Exception:
            got = False
        ok = got == d["expected"]
        suite = d["source"].split("@")[0]
        if c.get("status") == "active":
            per[suite][1] += 1
            per[suite][0] += ok
        else:
            removed[1] += 1
            removed[0] += ok
        if not ok:
            wrong.append((d["id"], c.get("status"), suite, d["expected"], d["gold"][:60], d["pred"][:60]))
    tot = [sum(v[0] for v in per.values()), sum(v[1] for v in per.values())]
    print(json.dumps({"per_suite": per, "active": tot, "removed_upstream": removed}))
    for w in wrong:
        print("WRONG", *w)


if __name__ == "__main__":
    main()
