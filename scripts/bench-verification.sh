#!/usr/bin/env bash
# Verification benchmark through the local stack (bench/src/verification.rs).
# BENCH_VERIFICATION_CONTRACTORS (default 8) tunes it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/bootstrap.sh
source scripts/env.sh
kit="$ONBOARDING_CACHE/kit-verification"
rm -rf "$kit"
"$MOTO_PYTHON" tests/corpus/generate.py "$kit" --per-kind 1 --tiers text_pdf --kinds insurance_certificate,license --seed 5 --compliant-cois --business "Bench Aurora Lighting LLC" --license-state CA
cargo build --profile perf -p bench --bin verification-bench
# EMF metric lines and logs go to stdout as in Lambda; keep only the report.
"$CARGO_TARGET_DIR/perf/verification-bench" "$kit" | grep -v '^{'
