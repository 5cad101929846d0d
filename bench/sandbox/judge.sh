#!/bin/sh
# Judge throughput: verity's `code` harness (judge separation, compiled languages) vs a plain
# subprocess runner without isolation, same inputs, one run, interleaved pairs.
# Usage: bench/sandbox/judge.sh [PYTHON_LIMIT]   (from the repository root; needs python3, g++
# and unprivileged user namespaces or root)
set -eu
cd "$(dirname "$0")/../.."
cargo build --release -p verity-sandbox --example judge_bench
echo "machine: $(nproc) cores, $(uname -sr), $(python3 --version 2>&1), $(g++ --version | head -1), load: $(cut -d' ' -f1-3 /proc/loadavg)"
data=crates/verity-sandbox/tests/data
./target/release/examples/judge_bench "$data/HumanEval.jsonl.gz" "$data/mbpp.jsonl.gz" "${1:-100000}"
