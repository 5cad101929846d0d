#!/bin/sh
# Judge throughput: verity's `code` harness (judge separation, compiled languages) vs a plain
# subprocess runner without isolation, same inputs, one run, interleaved pairs.
# Usage: bench/sandbox/judge.sh [PYTHON_LIMIT]   (from the repository root; needs python3, g++
# and unprivileged user namespaces or root). PROFILE=dev builds without --release (the
# dependencies are optimised in both profiles; only verity's own Rust code differs).
set -eu
cd "$(dirname "$0")/../.."
profile="${PROFILE:-release}"
if [ "$profile" = release ]; then
    cargo build --release -p verity-sandbox --example judge_bench
    bin=${CARGO_TARGET_DIR:-target}/release/examples/judge_bench
else
    cargo build -p verity-sandbox --example judge_bench
    bin="${CARGO_TARGET_DIR:-target}/debug/examples/judge_bench"
fi
echo "machine: $(nproc) cores, $(uname -sr), $(python3 --version 2>&1), $(g++ --version | head -1), load: $(cut -d' ' -f1-3 /proc/loadavg), profile: $profile"
data=crates/verity-sandbox/tests/data
"$bin" "$data/HumanEval.jsonl.gz" "$data/mbpp.jsonl.gz" "${1:-100000}"
