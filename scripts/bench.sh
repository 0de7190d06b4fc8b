#!/usr/bin/env bash
# API benchmark through the local stack (see bench/src/main.rs). Builds with the `perf`
# profile (optimised, no LTO). BENCH_REQUESTS and BENCH_LEVELS tune it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/bootstrap.sh
source scripts/env.sh
cargo build --profile perf -p bench --bin api-bench
# EMF metric lines go to stdout as in Lambda; keep only the report.
"$CARGO_TARGET_DIR/perf/api-bench" | grep -v '^{'
