#!/usr/bin/env bash
# Export and erasure through the local stack (bench/src/privacy.rs).
# BENCH_PRIVACY_DOCS (default "3,30,100") sets how many documents each contractor holds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/bootstrap.sh
source scripts/env.sh
cargo build --profile perf -p bench --bin privacy-bench
# EMF metric lines and logs go to stdout as in Lambda; keep only the report.
"$CARGO_TARGET_DIR/perf/privacy-bench" | grep -v '^{'
