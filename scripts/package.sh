#!/usr/bin/env bash
# Builds every function for Lambda (arm64, release profile) into the zips SAM deploys, then
# validates the template with SAM and runs `sam build` (offline, no Docker: cargo-lambda with
# zig cross-compiles). Usage: scripts/package.sh [--no-sam]   ARCH=x86_64 to build for x86_64.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/bootstrap.sh --sam
source scripts/env.sh
export PATH="$SAM_VENV/bin:$PATH"

arch="${ARCH:-arm64}"
case "$arch" in
  arm64) triple=aarch64-unknown-linux-gnu; flag=--arm64 ;;
  x86_64) triple=x86_64-unknown-linux-gnu; flag=--x86-64 ;;
  *) echo "ARCH must be arm64 or x86_64" >&2; exit 2 ;;
esac
if ! rustup target list --installed | grep -qx "$triple"; then
  if ! rustup target add "$triple"; then
    echo "The $triple standard library could not be installed." >&2
    echo "Build for x86_64 instead with: ARCH=x86_64 $0 (and set Architectures: [x86_64] in template.yaml)." >&2
    exit 1
  fi
fi

packages=()
for dir in functions/*/; do packages+=(-p "$(basename "$dir")"); done
echo "==> cargo lambda build --release $flag (${#packages[@]} functions, one cargo invocation: shared dependency builds)"
start=$(date +%s)
cargo lambda build --release "$flag" --output-format zip "${packages[@]}"
echo "==> built in $(( $(date +%s) - start ))s"
out="$CARGO_TARGET_DIR/lambda"
for dir in functions/*/; do
  name="$(basename "$dir")"
  printf '%-32s %8d bytes\n' "$name/bootstrap.zip" "$(stat -c %s "$out/$name/bootstrap.zip")"
done

if [ "${1:-}" != "--no-sam" ]; then
  echo "==> sam validate --lint"
  sam validate --lint --region us-east-1 --template-file template.yaml
  echo "==> sam build (reuses the compiled dependencies; each function is relinked)"
  start=$(date +%s)
  sam build --template-file template.yaml --build-dir .aws-sam/build
  echo "==> sam build in $(( $(date +%s) - start ))s; artifacts in .aws-sam/build"
fi
