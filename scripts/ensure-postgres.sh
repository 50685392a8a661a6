#!/usr/bin/env bash
# Installs Debian's postgresql (server binaries only are needed) when no initdb is found, for
# `make test-postgres`. Prints nothing when it is already there.
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
  echo "PostgreSQL is not installed and this user cannot install it (apt-get install postgresql)" >&2; exit 1
fi
echo "installing Debian's postgresql for make test-postgres..." >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq postgresql >/dev/null
# The package starts a system cluster on port 5432; the tests use their own, so leave it alone.
