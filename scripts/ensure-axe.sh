#!/usr/bin/env bash
# Installs axe-core (the version pinned in package.json / package-lock.json) into node_modules/ for
# the accessibility browser tests, with Debian's node and npm (installed here when missing and this
# user can). Without them the accessibility tests skip with a message saying so.
set -euo pipefail
cd "$(dirname "$0")/.."
want=$(sed -n 's/.*"axe-core": "\([^"]*\)".*/\1/p' package.json | head -1)
have=$(sed -n 's/.*"version": "\([^"]*\)".*/\1/p' node_modules/axe-core/package.json 2>/dev/null | head -1 || true)
if [ -f node_modules/axe-core/axe.min.js ] && [ "$have" = "$want" ]; then exit 0; fi
if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "npm is missing and this user cannot install it: the accessibility tests will be skipped" >&2; exit 0
  fi
  echo "installing Debian's nodejs and npm for axe-core..." >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >/dev/null
  $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi
echo "installing axe-core $want for the accessibility tests..." >&2
if ! npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null; then
  echo "could not install axe-core (npm ci failed): the accessibility tests will be skipped" >&2
fi
