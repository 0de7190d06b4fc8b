#!/usr/bin/env bash
# Extraction accuracy (bench/src/accuracy.rs), side by side: the generated corpus (every
# kind in three quality tiers, half the certificates in the agency-system layout, plus the
# form-software, altered and packet certificates) and the real documents beside the
# repository (../shared/corpus/real; said loudly when absent). Field precision and recall
# per kind and tier, how often a field read at confidence >= 0.9 is wrong, seconds per page,
# and every miss by field name. BENCH_DOCS documents per kind and tier (default 8).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/bootstrap.sh
source scripts/env.sh
corpus="$ONBOARDING_CACHE/corpus-accuracy-${BENCH_DOCS:-8}"
rm -rf "$corpus"
"$MOTO_PYTHON" tests/corpus/generate.py "$corpus" --per-kind "${BENCH_DOCS:-8}" --seed 2026 --specials
cargo build --profile perf -p bench --bin extraction-accuracy
"$CARGO_TARGET_DIR/perf/extraction-accuracy" --generated "$corpus" --real ../shared/corpus/real
