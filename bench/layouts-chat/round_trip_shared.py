"""Full-file round trips of the chat / preference / agent layout adapters on the shared real
data: `verity convert FILE --to <layout>` must reproduce every row (same JSON values), and
`verity convert FILE` must detect that layout. Also reports whether key order survived at the
top level and at every depth.

Run from the repository root after `cargo build -p verity-cli`:

    SHARED_DATA=../shared/data python3 bench/layouts-chat/round_trip_shared.py
"""
import glob, gzip, json, os, subprocess, tempfile

TMP = tempfile.mkdtemp(prefix="verity-rt-chat-")
V = os.environ.get("VERITY", "target/debug/verity")
S = os.environ.get("SHARED_DATA", "../shared/data").rstrip("/") + "/"


def norm(v):
    """Floats rounded to 12 significant digits (to tell serde_json float parsing apart)."""
    if isinstance(v, float):
        return float(f"{v:.12g}")
    if isinstance(v, dict):
        return {k: norm(x) for k, x in v.items()}
    if isinstance(v, list):
        return [norm(x) for x in v]
    return v


def load(path):
    op = gzip.open if path.endswith(".gz") else open
    text = op(path, "rt", encoding="utf-8").read()
    t = text.lstrip()
    if t.startswith("["):
        return json.loads(t)
    if t.startswith("{") and "}\n{" not in t:
        return [json.loads(t)]
    return [json.loads(l) for l in text.splitlines() if l.strip()]


cases = [
    ("llamafactory-demo/glaive_toolcall_en_demo.json", "sharegpt"),
    ("llamafactory-demo/dpo_en_demo.json", "sharegpt_dpo"),
    ("llamafactory-demo/kto_en_demo.json", "messages"),
    ("llamafactory-demo/reason_tool_use_demo_50.jsonl", "messages"),
    ("llamafactory-demo/v1_dpo_demo.jsonl", "dpo"),
    ("hh-rlhf/harmless-base/test.jsonl.gz", "hh_rlhf"),
    ("tau-bench/gpt-4o-airline.json.gz", "tau_bench"),
    ("tau-bench/MockAirlineDomainEnv-few_shot.jsonl", "tau_bench"),
    ("tau-bench/MockRetailDomainEnv-few_shot.jsonl", "tau_bench"),
    *[(p[len(S):], "swe_agent") for p in sorted(glob.glob(S + "swe-agent/*.traj"))],
    *[(p[len(S):], "toolbench") for p in sorted(glob.glob(S + "toolbench/answer/*/*.json"))],
]
bad = 0
rows_total = 0
for rel, layout in cases:
    src = S + rel
    out = os.path.join(TMP, "out.jsonl")
    run = subprocess.run([V, "convert", src, "--to", layout, "-o", out, "--no-ledger", "-q"],
                         capture_output=True, text=True)
    if run.returncode != 0:
        print("FAIL", rel, run.stderr[-500:])
        bad += 1
        continue
    a = load(src)
    b = [json.loads(l) for l in open(out, encoding="utf-8")]
    rows_total += len(a)
    exact = len(a) == len(b) and all(x == y for x, y in zip(a, b))
    if not exact:
        a, b = norm(a), norm(b)
    same = len(a) == len(b) and all(x == y for x, y in zip(a, b))
    top = same and all(list(x.keys()) == list(y.keys()) for x, y in zip(a, b))
    deep = same and all(json.dumps(x) == json.dumps(y) for x, y in zip(a, b))
    rec = os.path.join(TMP, "rec.jsonl")
    subprocess.run([V, "convert", src, "-o", rec, "--no-ledger", "-q"], capture_output=True)
    detected = sorted({json.loads(l)["lineage"].get("layout") for l in open(rec)}) if os.path.exists(rec) else None
    os.path.exists(rec) and os.remove(rec)
    print("OK  " if exact else ("FLOAT" if same else "DIFF"), "top-order" if top else "top-order?", "deep-order" if deep else "deep-order?",
          len(a), detected, rel)
    if not exact or detected != [layout]:
        bad += 1
print("rows", rows_total, "bad", bad)
