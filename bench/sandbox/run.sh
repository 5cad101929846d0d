#!/bin/sh
# Sandbox throughput: plain subprocess vs verity's sandbox, 1 and 2 workers, same run.
# Usage: bench/sandbox/run.sh [REPEATS]   (from the repository root; needs python3 and
# unprivileged user namespaces or root)
set -eu
cd "$(dirname "$0")/../.."
cargo build --release -p verity-sandbox --example sandbox_bench
echo "machine: $(nproc) cores, $(uname -sr), $(python3 --version 2>&1)"
./target/release/examples/sandbox_bench crates/verity-sandbox/tests/data/HumanEval.jsonl.gz "${1:-200}"
