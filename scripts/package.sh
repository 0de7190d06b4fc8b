#!/usr/bin/env bash
# Release build of every function for Lambda (arm64) into the artifacts SAM deploys:
# sam validate --lint, then sam build, whose Makefile targets share one cargo-lambda build
# of all functions (scripts/lambda-artifact.sh). Offline, no Docker: zig cross-compiles.
# ARCH=x86_64 builds for x86_64 instead (set Architectures to match in template.yaml).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/bootstrap.sh --sam
source scripts/env.sh
export PATH="$SAM_VENV/bin:$PATH"
# No usage reports from a build machine (SAM CLI would send them to AWS).
export SAM_CLI_TELEMETRY=0

case "${ARCH:-arm64}" in
  arm64) triple=aarch64-unknown-linux-gnu ;;
  x86_64) triple=x86_64-unknown-linux-gnu ;;
  *) echo "ARCH must be arm64 or x86_64" >&2; exit 2 ;;
esac
if ! rustup target list --installed | grep -qx "$triple"; then
  if ! rustup target add "$triple"; then
    echo "The $triple standard library could not be installed." >&2
    echo "Build for x86_64 instead: ARCH=x86_64 $0 (and set Architectures: [x86_64] in template.yaml)." >&2
    exit 1
  fi
fi

echo "==> sam validate --lint"
sam validate --lint --region us-east-1 --template-file template.yaml

# Container image functions (scan, extraction: docs/adr/0006) need Docker to build. Where
# there is no Docker daemon, the zip functions are built from a copy of the template
# without them, written beside template.yaml: sam build resolves every CodeUri relative to
# the template's own folder. Either way every function is checked first (scripts/packaging.py,
# also run by `make test`).
build_template=template.yaml
if ! command -v docker >/dev/null || ! docker info >/dev/null 2>&1; then
  build_template=.sam-template-zip.json
  "$MOTO_PYTHON" scripts/packaging.py split "$build_template"
fi
"$MOTO_PYTHON" scripts/packaging.py check "$build_template"

echo "==> sam build ($build_template)"
start=$(date +%s)
sam build --template-file "$build_template" --build-dir .aws-sam/build
echo "==> built in $(( $(date +%s) - start ))s; artifacts in .aws-sam/build"

# What each deployment package weighs (SAM zips the same file with deflate).
python3 - <<'PY'
import glob, io, os, zipfile
for path in sorted(glob.glob(".aws-sam/build/*/bootstrap")):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.write(path, "bootstrap")
    name = path.split("/")[2]
    print(f"{name:40s} bootstrap {os.path.getsize(path):>10,d} B   zip {len(buf.getvalue()):>10,d} B")
PY
