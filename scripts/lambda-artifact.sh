#!/usr/bin/env bash
# Puts one function's Lambda bootstrap into ARTIFACTS_DIR (called by sam build through the
# Makefile's build-<LogicalId> targets). All functions are built by one cargo invocation,
# so dependencies compile once and the per-binary LTO links run in parallel; for the second
# and later functions cargo finds everything fresh and this is only a copy.
# Usage: scripts/lambda-artifact.sh <binary> <artifacts-dir>   (ARCH=x86_64 for x86_64)
set -euo pipefail
binary="$1"; out="$2"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh
export PATH="$SAM_VENV/bin:$PATH"
case "${ARCH:-arm64}" in
  arm64) flag=--arm64 ;;
  x86_64) flag=--x86-64 ;;
  *) echo "ARCH must be arm64 or x86_64" >&2; exit 2 ;;
esac
packages=()
for dir in functions/*/; do packages+=(-p "$(basename "$dir")"); done
cargo lambda build --release "$flag" "${packages[@]}" >&2
mkdir -p "$out"
cp "$CARGO_TARGET_DIR/lambda/$binary/bootstrap" "$out/bootstrap"
