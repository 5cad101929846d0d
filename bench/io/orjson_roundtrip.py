"""Peer for the I/O benchmark: read a JSONL file with orjson and write every row back.

This is the fastest common Python way to stream a JSONL dataset: one `orjson.loads` and one
`orjson.dumps` per line, single process.
"""
import sys

import orjson


def main(src: str, dst: str) -> None:
    rows = 0
    with open(src, "rb") as fin, open(dst, "wb", buffering=1 << 20) as fout:
        for line in fin:
            if not line.strip():
                continue
            obj = orjson.loads(line)
            fout.write(orjson.dumps(obj))
            fout.write(b"\n")
            rows += 1
    print(rows)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
