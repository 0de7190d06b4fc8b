#!/usr/bin/env bash
# Installs what the local stack and the tests need. Idempotent: a second run does nothing
# but check. Usage: scripts/bootstrap.sh [--sam]   (--sam adds the packaging tools)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

log() { printf '[bootstrap] %s\n' "$*" >&2; }

apt_updated=0
ensure_apt() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  if [ $apt_updated -eq 0 ]; then $sudo apt-get update -qq; apt_updated=1; fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_venv() { # dir requirements-file
  local dir="$1" req="$2"
  if [ -f "$dir/.complete" ]; then return 0; fi
  log "creating venv $dir from $(basename "$req")"
  rm -rf "$dir"
  python3 -m venv "$dir"
  "$dir/bin/pip" install -q --disable-pip-version-check --upgrade pip
  "$dir/bin/pip" install -q --disable-pip-version-check -r "$req"
  touch "$dir/.complete"
}

command -v python3 >/dev/null || ensure_apt python3
python3 -m venv --help >/dev/null 2>&1 || ensure_apt python3-venv
ensure_apt ca-certificates curl git make
# Document engines: clamd for the scan, pdftotext/pdftoppm, Tesseract (+ orientation data)
# heif-convert and Ghostscript (disarming form scripts) for extraction — the same packages the container images install.
ensure_apt clamav clamav-daemon poppler-utils ghostscript tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd libheif-examples
# Browser checks (tests/browser): Debian's Chromium driven by playwright-core from npm; no
# browser download.
ensure_apt chromium
command -v node >/dev/null && command -v npm >/dev/null || ensure_apt nodejs npm
browser_dir="$ONBOARDING_ROOT/tests/browser"
if [ ! -f "$browser_dir/node_modules/.package-lock.json" ] \
  || ! cmp -s "$browser_dir/package-lock.json" "$browser_dir/node_modules/.lock-installed"; then
  log "npm ci in tests/browser"
  (cd "$browser_dir" && npm ci --no-audit --no-fund --silent && cp package-lock.json node_modules/.lock-installed)
fi
if ! command -v cargo >/dev/null; then
  log "no Rust toolchain: install one with rustup (stable, with clippy and rustfmt), then run again"
  exit 1
fi
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt

mkdir -p "$ONBOARDING_CACHE"
ensure_venv "$DEV_VENV" "$ONBOARDING_ROOT/scripts/requirements-dev.txt"
ensure_venv "$FUZZ_VENV" "$ONBOARDING_ROOT/scripts/requirements-fuzz.txt"

if [ "${1:-}" = "--sam" ]; then
  ensure_venv "$SAM_VENV" "$ONBOARDING_ROOT/scripts/requirements-sam.txt"
fi
log "ready (cache: $ONBOARDING_CACHE)"
