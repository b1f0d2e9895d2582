#!/usr/bin/env bash
# Makes sure Debian's headless-capable Chromium is at /usr/bin/chromium (used by playwright-core for
# the editor screenshots and the e2e panel check). Installs it with apt-get when missing; prints the
# browser path on the last line of stdout, progress on stderr.
#   CHROMIUM_PATH=/usr/bin/chromium (default)
set -euo pipefail

CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
say() { printf '[install-chromium] %s\n' "$*" >&2; }

if [ ! -x "$CHROMIUM_PATH" ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    say "no $CHROMIUM_PATH and no apt-get: install Chromium yourself and set CHROMIUM_PATH"
    exit 1
  fi
  SUDO=""
  if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else say "need root (or sudo) to apt-get install chromium"; exit 1; fi
  fi
  say "installing Debian's chromium package (first time only, about a minute)…"
  start=$(date +%s)
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >&2
  say "chromium installed in $(( $(date +%s) - start ))s"
fi
say "$("$CHROMIUM_PATH" --version 2>/dev/null || echo "$CHROMIUM_PATH")"
echo "$CHROMIUM_PATH"
