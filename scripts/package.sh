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
# there is none, the zip functions are built from a copy of the template without them.
build_template=template.yaml
if ! command -v docker >/dev/null || ! docker info >/dev/null 2>&1; then
  mkdir -p .aws-sam
  build_template=.aws-sam/template-zip.json
  "$MOTO_PYTHON" - "$build_template" <<'PY'
import json, sys
from cfnlint.decode import decode
template, problems = decode("template.yaml")
assert not problems, problems
images = [k for k, r in template["Resources"].items()
          if r.get("Type") == "AWS::Serverless::Function" and r.get("Properties", {}).get("PackageType") == "Image"]
for k in images:
    del template["Resources"][k]
json.dump(template, open(sys.argv[1], "w"), indent=1, default=str)
print("no Docker: container image functions left to a machine with Docker:", ", ".join(images), file=sys.stderr)
PY
fi

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
