#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests when it is missing.
# Playwright drives it through executable_path; `playwright install` cannot download here.
set -euo pipefail
for b in "${CHROMIUM_PATH:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
  if [ -n "$b" ] && [ -x "$b" ]; then exit 0; fi
done
if [ "$(id -u)" = "0" ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
  echo "chromium is missing and this user cannot install it: browser tests will be skipped" >&2; exit 0
fi
echo "installing Debian's chromium for the browser tests..." >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq chromium >/dev/null
