#!/usr/bin/env python3
"""Load every `verity export` target with the real readers and assert the trainer schemas.

Usage (from the repository root, after `cargo build -p verity-cli`):

    python3 crates/verity-pipeline/tests/check_exports.py [--verity target/debug/verity]

Needs `datasets` and `pyarrow` (pip install datasets pyarrow). For each target it runs
`verity export` on sample data shipped in the repo, in JSONL and in Parquet, loads the file with
`datasets.load_dataset(...)` (the loader TRL, verl and OpenRLHF scripts use) and with
`pyarrow.parquet.read_table`, and checks the columns and nested types each trainer reads:

- TRL SFTTrainer: conversational `messages` (list of {role, content}) or `prompt`/`completion`
  (TRL's `is_conversational` rule: a list of dicts with `role` and `content`).
- TRL DPOTrainer: `prompt`, `chosen`, `rejected`, conversational.
- TRL GRPOTrainer: `prompt` conversational, plus `solution` (string) for
  `trl.rewards.accuracy_reward(completions, solution, **kwargs)`.
- TRL PRMTrainer: `prompt` (str), `completions` (list of str), `labels` (list of bool),
  same length.
- verl RL: `data_source` (str), `prompt` (chat list), `ability` (str),
  `reward_model` {style: str, ground_truth: str}, `extra_info` (struct with `index`).
- OpenRLHF: SFT `input`/`output`; DPO `prompt`/`chosen`/`rejected` (str); PPO `input`/`label`.
- ShareGPT: `conversations` [{from, value}] with from in {system, human, gpt}.

Exits 1 on the first failed assertion, printing what was expected and what was found.
"""
import argparse
import os
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))

ROLLOUTS = os.path.join(ROOT, "recipes", "data", "gsm8k_model_solutions.head200.jsonl.gz")
PAIRS = os.path.join(ROOT, "tests", "data", "hh-rlhf", "harmless-base-test.head300.jsonl.gz")
STEPS = os.path.join(ROOT, "tests", "data", "openr-prm", "samples_prm800k.jsonl")

# target -> (input, extra args)
TARGETS = {
    "trl-sft": (ROLLOUTS, []),
    "trl-sft-prompt-completion": (ROLLOUTS, ["--think", "field"]),
    "trl-dpo": (PAIRS, []),
    "trl-grpo": (ROLLOUTS, ["--system", "Put the final answer in \\boxed{}."]),
    "trl-prm": (STEPS, []),
    "verl": (ROLLOUTS, ["--ability", "math"]),
    "openrlhf-sft": (ROLLOUTS, []),
    "openrlhf-dpo": (PAIRS, []),
    "openrlhf-prompt": (ROLLOUTS, []),
    "sharegpt": (ROLLOUTS, []),
}


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def is_conversational(value):
    """TRL's rule (trl.data_utils.is_conversational): a list of dicts with role and content."""
    return (
        isinstance(value, list)
        and len(value) > 0
        and all(isinstance(m, dict) and "role" in m and "content" in m for m in value)
    )


def check_rows(target, ds):
    cols = set(ds.column_names)
    n = len(ds)
    if n == 0:
        fail(f"{target}: no rows")

    def need(*names):
        missing = [c for c in names if c not in cols]
        if missing:
            fail(f"{target}: missing columns {missing}; have {sorted(cols)}")

    for row in ds:
        if target == "trl-sft":
            need("messages")
            m = row["messages"]
            if not is_conversational(m) or m[-1]["role"] != "assistant" or m[0]["role"] not in ("user", "system"):
                fail(f"{target}: messages not user..assistant: {m!r:.200}")
        elif target == "trl-sft-prompt-completion":
            need("prompt", "completion")
            if not is_conversational(row["prompt"]) or not is_conversational(row["completion"]):
                fail(f"{target}: prompt/completion not conversational")
            if row["completion"][0]["role"] != "assistant":
                fail(f"{target}: completion is not an assistant turn")
        elif target == "trl-dpo":
            need("prompt", "chosen", "rejected")
            for k in ("prompt", "chosen", "rejected"):
                if not is_conversational(row[k]):
                    fail(f"{target}: {k} not conversational: {row[k]!r:.200}")
            if row["chosen"][-1]["role"] != "assistant" or row["rejected"][-1]["role"] != "assistant":
                fail(f"{target}: chosen/rejected must end with an assistant turn")
        elif target == "trl-grpo":
            need("prompt", "solution")
            if not is_conversational(row["prompt"]) or row["prompt"][-1]["role"] != "user":
                fail(f"{target}: prompt must be a conversation ending with the user turn")
            if row["prompt"][0]["role"] != "system":
                fail(f"{target}: --system was not put first")
            if not isinstance(row["solution"], str) or not row["solution"]:
                fail(f"{target}: solution must be a non-empty string, got {row['solution']!r}")
        elif target == "trl-prm":
            need("prompt", "completions", "labels")
            if not isinstance(row["prompt"], str):
                fail(f"{target}: prompt must be a string")
            if len(row["completions"]) != len(row["labels"]) or not row["labels"]:
                fail(f"{target}: completions/labels lengths differ")
            if not all(isinstance(x, bool) for x in row["labels"]):
                fail(f"{target}: labels must be booleans, got {row['labels']!r}")
        elif target == "verl":
            need("data_source", "prompt", "ability", "reward_model", "extra_info")
            if not is_conversational(row["prompt"]):
                fail(f"{target}: prompt must be a chat list")
            rm = row["reward_model"]
            if set(rm) < {"style", "ground_truth"} or rm["style"] != "rule" or not isinstance(rm["ground_truth"], str):
                fail(f"{target}: reward_model must be {{style: 'rule', ground_truth: str}}, got {rm!r}")
            if row["ability"] != "math":
                fail(f"{target}: ability {row['ability']!r}")
            if "index" not in row["extra_info"]:
                fail(f"{target}: extra_info.index missing")
        elif target == "openrlhf-sft":
            need("input", "output")
            if not isinstance(row["input"], str) or not isinstance(row["output"], str):
                fail(f"{target}: input/output must be strings")
        elif target == "openrlhf-dpo":
            need("prompt", "chosen", "rejected")
            if not all(isinstance(row[k], str) for k in ("prompt", "chosen", "rejected")):
                fail(f"{target}: prompt/chosen/rejected must be strings")
        elif target == "openrlhf-prompt":
            need("input", "label")
            if not isinstance(row["label"], str):
                fail(f"{target}: label must be a string")
        elif target == "sharegpt":
            need("conversations")
            conv = row["conversations"]
            if not conv or any(set(t) != {"from", "value"} for t in conv):
                fail(f"{target}: turns must be {{from, value}}")
            if conv[-1]["from"] != "gpt" or not all(t["from"] in ("system", "human", "gpt", "observation") for t in conv):
                fail(f"{target}: roles {[t['from'] for t in conv]}")
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--verity", default=os.path.join(ROOT, "target", "debug", "verity"))
    args = ap.parse_args()
    try:
        import datasets
        import pyarrow.parquet as pq
    except ImportError as e:
        print(f"SKIP: {e} (pip install datasets pyarrow)")
        return 0
    datasets.disable_progress_bars()
    if not os.path.exists(args.verity):
        fail(f"{args.verity} not found; run `cargo build -p verity-cli` first")
    with tempfile.TemporaryDirectory() as tmp:
        for target, (inp, extra) in TARGETS.items():
            for fmt in ("jsonl", "parquet"):
                out = os.path.join(tmp, f"{target}.{fmt}")
                cmd = [args.verity, "-q", "export", inp, "-o", out, "--target", target] + extra
                r = subprocess.run(cmd, capture_output=True, text=True)
                if r.returncode != 0:
                    fail(f"{' '.join(cmd)}\n{r.stderr}")
                loader = "json" if fmt == "jsonl" else "parquet"
                ds = datasets.load_dataset(loader, data_files=out, split="train", cache_dir=os.path.join(tmp, "cache"))
                n = check_rows(target, ds)
                if fmt == "parquet":
                    table = pq.read_table(out)
                    if table.num_rows != n:
                        fail(f"{target}: pyarrow sees {table.num_rows} rows, datasets {n}")
                print(f"ok {target:<26} {fmt:<8} {n:>4} rows  columns={sorted(ds.column_names)}")
    print("all exports load with datasets/pyarrow and match the trainer schemas")
    return 0


if __name__ == "__main__":
    sys.exit(main())
