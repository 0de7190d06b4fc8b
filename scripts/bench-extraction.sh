#!/usr/bin/env bash
# Extraction accuracy over a generated corpus (bench/src/accuracy.rs): field-level precision
# and recall per kind and per quality tier. BENCH_DOCS documents per kind (default 8) in each
# tier: text PDF, clean scan, noisy phone photo.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/bootstrap.sh
source scripts/env.sh
corpus="$ONBOARDING_CACHE/corpus-accuracy-${BENCH_DOCS:-8}"
rm -rf "$corpus"
"$MOTO_PYTHON" tests/corpus/generate.py "$corpus" --per-kind "${BENCH_DOCS:-8}" --seed 2026
cargo build --profile perf -p bench --bin extraction-accuracy
"$CARGO_TARGET_DIR/perf/extraction-accuracy" "$corpus"
