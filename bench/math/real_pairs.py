#!/usr/bin/env python3
"""Flatten the real-data evaluation sets in shared/data into {gold, pred, expected, src, id}
JSONL files for bench/math (one file per source), so verity and math-verify can be run on
exactly the same pairs.

usage: real_pairs.py SHARED_DIR OUT_DIR

- math500.jsonl      : MATH-500 `answer` (gold) vs its own `solution` (pred, boxed extraction); expected true
- gsm8k.jsonl        : GSM8K test: gold = number after `####`, pred = the full reference solution; expected true
- gsm8k_models.jsonl : GSM8K example model solutions (GPT-3 6B/175B), expected = stored `is_correct`
- qwen_math_cot.jsonl: Qwen2.5-Math eval dump (100 MATH problems x 8 responses), expected = stored `score`
- skythought.jsonl   : Sky-T1 long-CoT dumps (AIME24 / AMC23), expected = stored `score`
"""
import glob
import gzip
import json
import os
import re
import sys


def rd(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rt") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def main():
    shared, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    d = f"{shared}/data"
    with open(f"{out}/math500.jsonl", "w") as f:
        for i, r in enumerate(rd(f"{d}/math500/test.jsonl")):
            f.write(json.dumps({"gold": r["answer"], "pred": r["solution"], "expected": True,
                                "src": "math500", "id": r.get("unique_id", i)}) + "\n")
    with open(f"{out}/gsm8k.jsonl", "w") as f:
        for i, r in enumerate(rd(f"{d}/gsm8k/test.jsonl")):
            gold = r["answer"].split("####")[-1].strip()
            f.write(json.dumps({"gold": gold, "pred": r["answer"], "expected": True,
                                "src": "gsm8k", "id": i}) + "\n")
    with open(f"{out}/gsm8k_models.jsonl", "w") as f:
        for i, r in enumerate(rd(f"{d}/gsm8k/example_model_solutions.jsonl.gz")):
            gold = r["ground_truth"].split("A:")[-1].strip() if "A:" in r["ground_truth"] else r["ground_truth"].split("####")[-1].strip()
            for k, v in r.items():
                if isinstance(v, dict) and "solution" in v:
                    f.write(json.dumps({"gold": gold, "pred": v["solution"], "expected": bool(v["is_correct"]),
                                        "src": f"gsm8k_models/{k}", "id": f"{i}/{k}"}) + "\n")
    with open(f"{out}/qwen_math_cot.jsonl", "w") as f:
        for r in rd(f"{d}/qwen25-math-eval/eval_rm_maj_example/math_cot_100.jsonl.gz"):
            for j, (resp, sc, pr) in enumerate(zip(r["code"], r["score"], r["pred"])):
                f.write(json.dumps({"gold": r["gt"], "pred": resp, "expected": bool(sc), "stored_pred": pr,
                                    "src": "qwen_math_cot", "id": f"{r['idx']}/{j}"}) + "\n")
    with open(f"{out}/skythought.jsonl", "w") as f:
        for p in sorted(glob.glob(f"{d}/skythought-evals/*/*/*.jsonl")):
            tag = "/".join(p.split("/")[-3:-1])
            for r in rd(p):
                for j, (resp, sc) in enumerate(zip(r["code"], r["score"])):
                    f.write(json.dumps({"gold": str(r["gt"]), "pred": resp, "expected": bool(sc),
                                        "stored_pred": r["pred"][j] if j < len(r["pred"]) else None,
                                        "src": f"skythought/{tag}", "id": f"{tag}/{r['idx']}/{j}"}) + "\n")


if __name__ == "__main__":
    main()
