#!/usr/bin/env bash
# Document pipeline benchmark through the local stack (bench/src/pipeline.rs).
# BENCH_PIPELINE_DOCS (default 10) tunes it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/bootstrap.sh
source scripts/env.sh
corpus="$ONBOARDING_CACHE/corpus-pipeline"
rm -rf "$corpus"
"$MOTO_PYTHON" tests/corpus/generate.py "$corpus" --per-kind 1 --tiers text_pdf,noisy_photo --kinds insurance_certificate --seed 11
cargo build --profile perf -p bench --bin pipeline-bench
# EMF metric lines and logs go to stdout as in Lambda; keep only the report.
"$CARGO_TARGET_DIR/perf/pipeline-bench" "$corpus" | grep -v '^{'
