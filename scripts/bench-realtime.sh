#!/usr/bin/env bash
# Realtime benchmark through the local stack (bench/src/realtime.rs).
# BENCH_REALTIME_EVENTS (default 40) and BENCH_REALTIME_ROUNDS (default 10) tune it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/bootstrap.sh
source scripts/env.sh
cargo build --profile perf -p bench --bin realtime-bench
# EMF metric lines and logs go to stdout as in Lambda; keep only the report.
"$CARGO_TARGET_DIR/perf/realtime-bench" | grep -v '^{'
