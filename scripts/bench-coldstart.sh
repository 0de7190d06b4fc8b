#!/usr/bin/env bash
# make bench-coldstart: every function built with the deploy profile (release: opt-level z,
# fat LTO, one codegen unit, abort on panic, stripped) for this machine, then each started
# against a mock Lambda Runtime API beside a bare lambda_runtime hello (same profile) and a
# Node.js 20 handler that builds the AWS SDK v3 DynamoDB document client at init.
# RUNS=n (default 15) starts per function.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/bootstrap.sh
source scripts/env.sh

functions=()
packages=()
for dir in functions/*/; do
  functions+=("$(basename "$dir")")
  packages+=(-p "$(basename "$dir")")
done
printf '==> cargo build --release (%d functions and the hello)\n' "${#functions[@]}"
start=$(date +%s)
# One invocation, as packaging builds them: features unify the same way.
cargo build --release --locked "${packages[@]}" -p coldstart-hello
echo "built in $(( $(date +%s) - start )) s"

node_dir=bench/coldstart/node
if ! cmp -s "$node_dir/package-lock.json" "$node_dir/node_modules/.lock-installed" 2>/dev/null; then
  (cd "$node_dir" && npm ci --no-audit --no-fund --silent && cp package-lock.json node_modules/.lock-installed)
fi
echo "==> node $(node --version), @aws-sdk/client-dynamodb $(node -p "require('./$node_dir/node_modules/@aws-sdk/client-dynamodb/package.json').version")"

"$MOTO_PYTHON" scripts/coldstart.py --table --template template.yaml \
  --bin-dir "$CARGO_TARGET_DIR/release" --hello "$CARGO_TARGET_DIR/release/coldstart-hello" \
  --node "$node_dir" --runs "${RUNS:-15}" "${functions[@]}"
