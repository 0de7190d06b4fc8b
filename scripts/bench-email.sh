#!/usr/bin/env bash
# Email throughput through the local stack (bench/src/email.rs).
# BENCH_EMAIL_CONTRACTORS (default 60) and BENCH_EMAIL_BATCHES (default 10) tune it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/bootstrap.sh
source scripts/env.sh
cargo build --profile perf -p bench --bin email-bench
# EMF metric lines and logs go to stdout as in Lambda; keep only the report.
"$CARGO_TARGET_DIR/perf/email-bench" | grep -v '^{'
