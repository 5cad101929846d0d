#!/usr/bin/env python3
"""Peer run: datatrove's MinHash dedup (its four stages, its defaults) on problem + "\\n" + trace.

datatrove 0.10.1 defaults: `MinhashConfig()` = 5-gram word shingles after its text
normalization, 14 buckets x 8 hashes (112 hashes, S-curve knee (1/14)^(1/8) ~ 0.72), 64-bit
xxhash. The pipeline is the one datatrove documents (examples/minhash_deduplication.py):

1. `MinhashDedupSignature` (tasks = input shards, `--workers` at a time),
2. `MinhashDedupBuckets` (one task per bucket),
3. `MinhashDedupCluster` (one task; `save_cluster_id=True` so quality can be scored),
4. `MinhashDedupFilter` + `JsonlWriter` (kept records; removed ones to an exclusion writer).

datatrove parallelises over input files, so the corpus is first split into `--workers` shards
(untimed; each shard is one reader task). The timed part is the four stages, run back to back in
this process's executors. Afterwards (untimed) the cluster ids that stage 4 put in every output
document's metadata are grouped into a clusters report (`{"members": [{"id"}]}`) for
eval_quality.py. Prints one JSON line with wall time per stage and in total.

    /work/venv/bin/python peer_datatrove_minhash.py CORPUS REPORT [--workers 2] [--work DIR]

Peak memory: run it under GNU time (`/usr/bin/time -f %M` reports the largest process, i.e. the
largest single worker or the parent).
"""
import argparse
import gzip
import json
import os
import shutil
import tempfile
import time

import orjson
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.dedup.minhash import (
    MinhashConfig,
    MinhashDedupBuckets,
    MinhashDedupCluster,
    MinhashDedupFilter,
    MinhashDedupSignature,
)
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter


class Signature(MinhashDedupSignature):
    """datatrove's signature step; the installed xxhash refuses str (datatrove passes str
    shingles), so encode first -- the same hash values xxhash gives the UTF-8 bytes."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        raw = self._hash_func
        self._hash_func = lambda text: raw(text.encode("utf-8"))


def adapter(self, data, path, id_in_file):
    return {"text": data["problem"] + "\n" + data["trace"], "id": data["id"], "metadata": {}}


def split(corpus, shards_dir, n):
    os.makedirs(shards_dir, exist_ok=True)
    outs = [open(os.path.join(shards_dir, f"part{i:02d}.jsonl"), "wb") for i in range(n)]
    with open(corpus, "rb") as f:
        lines = sum(1 for _ in f)
    per = -(-lines // n)
    with open(corpus, "rb") as f:
        for i, line in enumerate(f):
            outs[i // per].write(line)
    for o in outs:
        o.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus")
    parser.add_argument("report")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--work", help="scratch directory (default: a new temp dir, removed at the end)")
    args = parser.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="datatrove-minhash-")
    shards = os.path.join(work, "shards")
    split(args.corpus, shards, args.workers)
    config = MinhashConfig()
    sigs, buckets, remove, out, removed, logs = (os.path.join(work, d) for d in ("sigs", "buckets", "remove", "out", "removed", "logs"))

    def reader():
        return JsonlReader(shards, adapter=adapter, glob_pattern="*.jsonl")

    stages = [
        ("signatures", [reader(), Signature(output_folder=sigs, config=config)], args.workers, args.workers),
        ("buckets", [MinhashDedupBuckets(input_folder=sigs, output_folder=buckets, config=config)], config.num_buckets, args.workers),
        ("cluster", [MinhashDedupCluster(input_folder=buckets, output_folder=remove, config=config, save_cluster_id=True)], 1, 1),
        (
            "filter",
            [
                reader(),
                MinhashDedupFilter(input_folder=remove, exclusion_writer=JsonlWriter(removed), load_cluster_ids=True),
                JsonlWriter(out),
            ],
            args.workers,
            args.workers,
        ),
    ]
    times = {}
    start = time.perf_counter()
    for name, pipeline, tasks, workers in stages:
        t0 = time.perf_counter()
        LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=workers, logging_dir=os.path.join(logs, name), start_method="fork").run()
        times[name] = round(time.perf_counter() - t0, 2)
    wall = time.perf_counter() - start

    clusters = {}
    for folder in (out, removed):
        for name in sorted(os.listdir(folder)):
            with gzip.open(os.path.join(folder, name), "rb") as f:
                for line in f:
                    doc = orjson.loads(line)
                    cid = doc.get("metadata", {}).get("minhash_cluster_id", -1)
                    if cid != -1:
                        clusters.setdefault(cid, []).append(doc["id"])
    with open(args.report, "w") as f:
        for members in clusters.values():
            if len(members) > 1:
                f.write(json.dumps({"members": [{"id": m} for m in members]}) + "\n")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({"tool": "datatrove-minhash", "wall_s": round(wall, 2), "stages_s": times,
                      "buckets": config.num_buckets, "hashes_per_bucket": config.hashes_per_bucket}))


if __name__ == "__main__":
    main()
