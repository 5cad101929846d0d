#!/usr/bin/env python3
"""Precision/recall of dedup clusters and decontamination hits against make_corpus.py labels.

    python3 eval_quality.py dedup    --corpus /tmp/corpus.jsonl --report /tmp/dedup.report.jsonl
    python3 eval_quality.py decontam --corpus /tmp/corpus.jsonl --report /tmp/decontam.report.jsonl

dedup: true clusters are an original plus every record whose `dup_of` names it; true pairs are
all pairs inside a true cluster. Predicted pairs are all pairs inside a reported cluster
(`{"members": [{"id": ...}, ...]}`, verity's report format; a JSONL of `{"cluster": [ids]}` or
plain id lists is accepted too). Pair precision = correct predicted pairs / predicted pairs,
pair recall = correct predicted pairs / true pairs (counted per cluster, no n^2 pair lists).

decontam: a record is flagged when the report has a hit for it (`{"record": id, ...}`); recall =
flagged labelled records (`contaminated_from`) / labelled records; false-flag rate = flagged
unlabelled records / unlabelled records; also how many labelled hits name the right item.
Prints one JSON object. Standard library only.
"""
import argparse
import json
from collections import Counter, defaultdict


def load_labels(path):
    dup_of, contaminated, ids = {}, {}, []
    with open(path, "rb") as f:
        for line in f:
            # Only the label fields are needed: parse cheaply.
            row = json.loads(line)
            ids.append(row["id"])
            if row.get("dup_of"):
                dup_of[row["id"]] = row["dup_of"]
            if row.get("contaminated_from"):
                contaminated[row["id"]] = row["contaminated_from"]
    return ids, dup_of, contaminated


def pairs(n):
    return n * (n - 1) // 2


def read_clusters(path):
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            value = json.loads(line)
            if isinstance(value, list):
                yield [str(x) for x in value]
            elif "members" in value:
                yield [m["id"] if isinstance(m, dict) else m for m in value["members"]]
            else:
                yield list(value["cluster"])


def eval_dedup(corpus, report):
    ids, dup_of, _ = load_labels(corpus)
    true_cluster = {i: i for i in ids}
    for d, orig in dup_of.items():
        true_cluster[d] = orig
    sizes = Counter(true_cluster.values())
    true_pairs = sum(pairs(s) for s in sizes.values())
    predicted_pairs = correct = 0
    clusters = 0
    for members in read_clusters(report):
        clusters += 1
        predicted_pairs += pairs(len(members))
        by_true = Counter(true_cluster.get(m, m) for m in members)
        correct += sum(pairs(c) for c in by_true.values())
    precision = correct / predicted_pairs if predicted_pairs else 1.0
    recall = correct / true_pairs if true_pairs else 1.0
    return {
        "task": "dedup",
        "true_pairs": true_pairs,
        "predicted_pairs": predicted_pairs,
        "correct_pairs": correct,
        "precision": round(precision, 5),
        "recall": round(recall, 5),
        "predicted_clusters": clusters,
    }


def eval_decontam(corpus, report):
    ids, _, contaminated = load_labels(corpus)
    flagged = defaultdict(set)
    with open(report) as f:
        for line in f:
            if line.strip():
                hit = json.loads(line)
                flagged[hit["record"]].add(str(hit.get("item", "")))
    labelled = set(contaminated)
    unlabelled = len(ids) - len(labelled)
    found = labelled & set(flagged)
    right_item = sum(1 for r in found if contaminated[r] in flagged[r])
    false = [r for r in flagged if r not in labelled]
    return {
        "task": "decontam",
        "labelled": len(labelled),
        "flagged": len(flagged),
        "recall": round(len(found) / len(labelled), 5) if labelled else 1.0,
        "right_item": right_item,
        "false_flags": len(false),
        "false_flag_rate": round(len(false) / unlabelled, 6) if unlabelled else 0.0,
        "precision": round(len(found) / len(flagged), 5) if flagged else 1.0,
        "missed_examples": sorted(labelled - set(flagged))[:10],
        "false_examples": sorted(false)[:10],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("task", choices=["dedup", "decontam"])
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--report", required=True)
    args = parser.parse_args()
    result = eval_dedup(args.corpus, args.report) if args.task == "dedup" else eval_decontam(args.corpus, args.report)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
