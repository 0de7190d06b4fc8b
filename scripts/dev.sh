#!/usr/bin/env bash
# Starts the local stack: moto + every function behind API Gateway on http://127.0.0.1:3000
# (PORT overrides). Ctrl-C stops it and the moto it started.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/bootstrap.sh
source scripts/env.sh
cargo build -p local-runner --bin onboarding-local
exec "$CARGO_TARGET_DIR/debug/onboarding-local"
