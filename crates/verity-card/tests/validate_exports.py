#!/usr/bin/env python3
"""Validate verity's card exports with the reference tooling.

- Croissant JSON-LD: `mlcroissant` (PyPI) loads it as a Dataset; any error fails. Also checks
  that it declares Croissant 1.1 + RAI 1.0 and carries the RAI, PROV and verity:* properties.
- Hugging Face dataset card: `huggingface_hub.DatasetCard` parses README.md (YAML front matter
  + body); the Hub metadata keys must come back with the values verity wrote.

Cards exported: every `examples/cards/*.json`, a card built now from the real run's ledger in
`crates/verity-card/tests/data/` (with the short declared-facts file), and one atlas entry.

Usage (from the repository root, after `cargo build -p verity-cli`):

    python3 crates/verity-card/tests/validate_exports.py [--verity target/debug/verity] [--require]

Without `--require`, a missing `mlcroissant` / `huggingface_hub` prints SKIP and exits 0.
"""

import argparse
import glob
import json
import logging
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
HUB_SIZE_CATEGORIES = {
    "n<1K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "1M<n<10M", "10M<n<100M",
    "100M<n<1B", "1B<n<10B", "10B<n<100B", "100B<n<1T", "n>1T",
}
RAI_KEYS = [
    "rai:dataCollection", "rai:dataCollectionType", "rai:dataAnnotationProtocol",
    "rai:machineAnnotationTools", "rai:dataPreprocessingProtocol", "rai:dataLimitations",
]
PROV_KEYS = ["prov:wasDerivedFrom", "prov:wasGeneratedBy", "prov:wasAttributedTo"]
VERITY_KEYS = [
    "verity:verifier", "verity:generator", "verity:inferenceBudget", "verity:optimizer",
    "verity:scaffold", "verity:baseModel",
]


def run(verity, *args):
    proc = subprocess.run([verity, *args], capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"FAIL: verity {' '.join(args)}: exit {proc.returncode}\n{proc.stderr}")
    return proc.stdout


def check_croissant(path, label, mlc, failures, needs_record_set=False):
    with open(path) as f:
        doc = json.load(f)
    try:
        dataset = mlc.Dataset(jsonld=path)
    except Exception as error:  # mlcroissant raises ValidationError on errors
        failures.append(f"{label}: mlcroissant rejected the JSON-LD: {error}")
        return
    meta = dataset.metadata
    errors = sorted(meta.ctx.issues.errors)
    if errors:
        failures.append(f"{label}: mlcroissant errors: {errors}")
    if str(meta.ctx.conforms_to.value) != "http://mlcommons.org/croissant/1.1":
        failures.append(f"{label}: conformsTo read as {meta.ctx.conforms_to}")
    if "http://mlcommons.org/croissant/RAI/1.0" not in doc.get("conformsTo", []):
        failures.append(f"{label}: RAI 1.0 not declared")
    if needs_record_set and "recordSet" not in doc:
        failures.append(f"{label}: no record set describes the released files")
    serialized = meta.to_json()
    for key in RAI_KEYS + PROV_KEYS + VERITY_KEYS:
        if key in ("prov:wasDerivedFrom", "prov:wasGeneratedBy") and key not in doc:
            continue  # absent when the card has no sources / no ledger (atlas entries)
        if key not in serialized:
            failures.append(f"{label}: {key} lost by mlcroissant (present in file: {key in doc})")
    print(f"  croissant ok: {label} ({len(meta.record_sets)} record sets, "
          f"{len(meta.distribution)} files, warnings: {len(meta.ctx.issues.warnings)})")


def check_hf(path, label, hub, failures):
    import yaml

    card = hub.DatasetCard.load(path)
    data = card.data.to_dict()
    with open(path) as f:
        text = f.read()
    front = yaml.safe_load(text.split("---\n")[1])
    for key in ("pretty_name", "license", "tags", "task_categories", "annotations_creators", "verity"):
        if key not in data:
            failures.append(f"{label}: Hub metadata key `{key}` missing after parsing")
        elif data[key] != front[key]:
            failures.append(f"{label}: `{key}` parsed as {data[key]!r}, written {front[key]!r}")
    if not re.fullmatch(r"[a-z0-9.+-]+", str(data.get("license", ""))):
        failures.append(f"{label}: license {data.get('license')!r} is not a Hub license id")
    for size in data.get("size_categories", []):
        if size not in HUB_SIZE_CATEGORIES:
            failures.append(f"{label}: size_categories value {size!r} is not a Hub value")
    for config in data.get("configs", []):
        if "config_name" not in config or "data_files" not in config:
            failures.append(f"{label}: malformed configs entry {config}")
    if "## Attribution Factors" not in card.text:
        failures.append(f"{label}: body lacks the attribution factors section")
    print(f"  hf ok: {label} (license {data.get('license')}, level {data['verity']['curation_level']})")


def real_chain(verity, tmp, data, failures):
    """Run convert -> verify -> dedup -> decontam -> score (+ stats) on a real sample, build the
    card from that ledger with the short declared-facts file, and gate it at L4."""
    work = os.path.join(tmp, "chain")
    os.makedirs(work)
    sample = os.path.join(ROOT, "tests", "data", "gsm8k", "example_model_solutions.head30.jsonl.gz")
    p = lambda name: os.path.join(work, name)  # noqa: E731
    run(verity, "--quiet", "convert", sample, "-o", p("a.jsonl"))
    run(verity, "--quiet", "verify", p("a.jsonl"), "-o", p("b.jsonl"), "--verifier", "math")
    run(verity, "--quiet", "dedup", p("b.jsonl"), "-o", p("c.jsonl"))
    run(verity, "--quiet", "decontam", p("c.jsonl"), "-o", p("d.jsonl"), "--against", "builtin:math500,aime24")
    run(verity, "--quiet", "score", p("d.jsonl"), "-o", p("e.jsonl"))
    with open(p("stats.json"), "w") as f:
        f.write(run(verity, "--json", "stats", p("e.jsonl")))
    run(verity, "--quiet", "card", "build", "--ledger", p("ledger.jsonl"), "--stats", p("stats.json"),
        "--data", p("e.jsonl"), "--facts", os.path.join(data, "gsm8k_solutions.facts.toml"), "-o", p("card.json"))
    report = json.loads(run(verity, "--json", "card", "check", p("card.json")))
    print(f"  real chain card: {report['level_label']}, reuse {report['reuse']}, missing {len(report['missing'])}")
    if report["level"] is None or report["level"] < 4:
        failures.append(f"real chain card below L4: {report['level_label']}, missing {report['missing']}")
    return p("card.json")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verity", default=os.environ.get("VERITY_BIN", os.path.join(ROOT, "target", "debug", "verity")))
    parser.add_argument("--require", action="store_true", help="fail (not skip) when the reference tools are missing")
    args = parser.parse_args()
    try:
        import mlcroissant as mlc
        import huggingface_hub as hub
        import yaml  # noqa: F401  (a huggingface_hub dependency)
    except ImportError as error:
        message = f"reference tooling missing ({error}); pip install mlcroissant huggingface_hub"
        if args.require:
            raise SystemExit(f"FAIL: {message}")
        print(f"SKIP: {message}")
        return 0
    logging.getLogger("absl").setLevel(logging.ERROR)
    if not os.path.exists(args.verity):
        raise SystemExit(f"FAIL: no verity binary at {args.verity} (cargo build -p verity-cli)")

    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        # Negative control: the validator must reject a Croissant file without its name.
        broken = os.path.join(tmp, "broken.json")
        with open(broken, "w") as f:
            f.write(run(args.verity, "card", "export", os.path.join(ROOT, "examples", "cards", "base.json"), "--to", "croissant"))
        with open(broken) as f:
            doc = json.load(f)
        del doc["name"]
        doc["distribution"][0]["encodingFormat"] = 7
        with open(broken, "w") as f:
            json.dump(doc, f)
        control = []
        try:
            check_croissant(broken, "negative control", mlc, control)
        except Exception as error:  # noqa: BLE001
            control.append(str(error))
        if not control:
            failures.append("negative control: mlcroissant accepted a Croissant file without `name`")
        else:
            print(f"  negative control rejected as expected: {control[0][:120]}")
        built = os.path.join(tmp, "built.json")
        data = os.path.join(ROOT, "crates", "verity-card", "tests", "data")
        run(args.verity, "--quiet", "card", "build",
            "--ledger", os.path.join(data, "gsm8k_solutions.ledger.jsonl"),
            "--stats", os.path.join(data, "gsm8k_solutions.stats.json"),
            "--data", os.path.join(ROOT, "tests", "data", "gsm8k", "example_model_solutions.head30.jsonl.gz"),
            "--facts", os.path.join(data, "gsm8k_solutions.facts.toml"),
            "-o", built)
        chain = real_chain(args.verity, tmp, data, failures)
        cards = sorted(glob.glob(os.path.join(ROOT, "examples", "cards", "*.json")))
        cards += [built, chain, "atlas:s1-2025"]
        for spec in cards:
            label = os.path.basename(spec)
            out = os.path.join(tmp, "export-" + label.replace(":", "_"))
            os.makedirs(out, exist_ok=True)
            croissant = os.path.join(out, "croissant.json")
            readme = os.path.join(out, "README.md")
            run(args.verity, "--quiet", "card", "export", spec, "--to", "croissant", "-o", croissant)
            run(args.verity, "--quiet", "card", "export", spec, "--to", "hf", "-o", readme)
            # Cards that know the released files' columns must describe them in a record set
            # (the ledger-only build scanned the source, not the released file, so it does not).
            check_croissant(croissant, label, mlc, failures, needs_record_set=spec not in (built, "atlas:s1-2025"))
            check_hf(readme, label, hub, failures)
    if failures:
        print("\n".join(f"FAIL: {f}" for f in failures))
        return 1
    print(f"all exports valid ({len(cards)} cards, mlcroissant + huggingface_hub {hub.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
