# Sourced by every script: where the tools and the shared build cache live.
# Everything sits under one cache folder outside the checkout, so fresh clones
# (CI, a second work tree) reuse the compiled dependencies and the venvs.
ONBOARDING_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ONBOARDING_CACHE="${ONBOARDING_CACHE:-$HOME/.cache/holiday-onboarding}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ONBOARDING_CACHE/target}"
req_hash() { sha256sum "$1" | cut -c1-12; }
DEV_VENV="$ONBOARDING_CACHE/venv-dev-$(req_hash "$ONBOARDING_ROOT/scripts/requirements-dev.txt")"
SAM_VENV="$ONBOARDING_CACHE/venv-sam-$(req_hash "$ONBOARDING_ROOT/scripts/requirements-sam.txt")"
FUZZ_VENV="$ONBOARDING_CACHE/venv-fuzz-$(req_hash "$ONBOARDING_ROOT/scripts/requirements-fuzz.txt")"
export MOTO_PYTHON="${MOTO_PYTHON:-$DEV_VENV/bin/python}"
# moto with DynamoDB operations serialized, as DynamoDB guarantees (local/moto_server.py).
export MOTO_SERVER_BIN="${MOTO_SERVER_BIN:-$ONBOARDING_ROOT/local/moto-server}"
export PATH="$DEV_VENV/bin:$HOME/.cargo/bin:$PATH"
