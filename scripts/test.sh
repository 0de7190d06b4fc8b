#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what it needs, then format check, clippy
# (warnings denied), cfn-lint, unit tests and the end-to-end tests against moto.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/bootstrap.sh
source scripts/env.sh
# Every clone builds at its own path, so incremental caches pile up in the shared target
# (43 GB filled the disk once); a one-off test run gains nothing from them.
export CARGO_INCREMENTAL=0

step() { printf '\n==> %s\n' "$*"; }
timer_start=$(date +%s)

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cfn-lint template.yaml"
cfn-lint template.yaml

step "packaging check (what sam build will resolve, with and without a Docker daemon)"
"$MOTO_PYTHON" scripts/packaging.py split .sam-template-zip.json
"$MOTO_PYTHON" scripts/packaging.py check template.yaml .sam-template-zip.json

step "cargo test (unit, handler and end-to-end tests)"
log="$(mktemp)"
set +e
cargo test --workspace --locked 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
passed=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /^passed/) p += $i } END { print p + 0 }' "$log")
failed=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /^failed/) f += $i } END { print f + 0 }' "$log")
rm -f "$log"

# Schemathesis against the served OpenAPI document, through a local stack of its own: every
# phase, every check, a bounded time and a fixed seed (so a run in CI replays; `make
# contract-fuzz` draws a fresh seed).
step "contract fuzzing (Schemathesis, tests/contract)"
fuzz_status=0
cargo build --locked -q -p local-runner --bin onboarding-local
"$FUZZ_VENV/bin/python" tests/contract/run.py "$CARGO_TARGET_DIR/debug/onboarding-local" \
  --max-time "${CONTRACT_FUZZ_SECONDS:-120}" --seed 20261203 || fuzz_status=$?

echo
echo "took $(( $(date +%s) - timer_start ))s"
echo "tests: ${passed:-0} passed, ${failed:-0} failed"
[ "$fuzz_status" -eq 0 ] || echo "contract fuzzing failed (exit $fuzz_status)"
[ "$status" -ne 0 ] && exit "$status"
exit "$fuzz_status"
