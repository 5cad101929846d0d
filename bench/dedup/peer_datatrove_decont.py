#!/usr/bin/env python3
"""Peer run: datatrove's NGramsDecontFilter (13-grams, datatrove's default text normalization)
on problem + "\\n" + trace, against a benchmark file of `{id, question|problem}` rows.

The index is built exactly as datatrove's NGramsDecontIndexer.compute_hashes does (question n-grams),
saved where NGramsDecontFilter loads it, then every record goes through `filter()` in one
process. Writes `{"record": id}` per flagged record (for eval_quality.py) and prints a JSON line
with wall time, records/s and peak RSS.

    /work/venv/bin/python peer_datatrove_decont.py CORPUS BENCH REPORT [--limit N]
"""
import argparse
import json
import os
import resource
import tempfile
import time

import numpy as np
import orjson
from datatrove.data import Document
from datatrove.pipeline.decont.n_grams import NGramsDecontConfig, NGramsDecontFilter
from datatrove.utils.hashing import create_hash_func
from datatrove.utils.text import ngrams, simplify_text
from datatrove.utils.word_tokenizers import load_word_tokenizer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus")
    parser.add_argument("bench")
    parser.add_argument("report")
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    config = NGramsDecontConfig(n_grams=13, find_query_ngrams=True, find_overlap_ngrams=False)
    folder = tempfile.mkdtemp(prefix="dt-decont-")
    # The same computation as NGramsDecontIndexer.compute_hashes (which needs lighteval to run).
    tokenizer = load_word_tokenizer("en")
    raw_hash = create_hash_func(config.hash_config)

    # The installed xxhash refuses str; datatrove passes str n-grams, so encode first.
    def hash_func(text):
        return raw_hash(text.encode("utf-8"))

    hashes = set()
    with open(args.bench, "rb") as f:
        for line in f:
            row = orjson.loads(line)
            tokens = tokenizer.word_tokenize(simplify_text(row.get("question") or row["problem"], config.norm_config))
            hashes.update(map(hash_func, map(" ".join, ngrams(tokens, config.n_grams))))
    np.array(sorted(hashes), dtype=config.hash_config.np_descr).tofile(os.path.join(folder, "bench.index.hashes"))
    filt = NGramsDecontFilter(index_folder=folder, config=config)
    filt.hash_func = hash_func
    start = time.perf_counter()
    n = flagged = 0
    with open(args.corpus, "rb") as f, open(args.report, "w") as out:
        for line in f:
            row = orjson.loads(line)
            doc = Document(text=row["problem"] + "\n" + row["trace"], id=row["id"])
            result = filt.filter(doc)
            keep = result if isinstance(result, bool) else result[0]
            if not keep:
                flagged += 1
                out.write(json.dumps({"record": row["id"]}) + "\n")
            n += 1
            if args.limit and n >= args.limit:
                break
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"tool": "datatrove NGramsDecontFilter", "records": n, "flagged": flagged, "wall_s": round(wall, 2),
                      "records_per_s": round(n / wall, 1), "peak_mib": round(peak, 1), "ngrams_indexed": len(hashes)}))


if __name__ == "__main__":
    main()
