#!/usr/bin/env bash
# Installs Debian's redis-server when it is missing, for the tests of the shared rate-limit store
# (the tests start their own server on a free loopback port and stop it; the package's own
# service is not needed). Without root or sudo those tests are skipped with a message.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ]; then exit 0; fi
if [ "$(id -u)" = "0" ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
  echo "redis-server is missing and this user cannot install it: the shared rate-limit tests will be skipped" >&2; exit 0
fi
echo "installing Debian's redis-server for the shared rate-limit tests..." >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends redis-server >/dev/null || {
  echo "could not install redis-server: the shared rate-limit tests will be skipped" >&2; exit 0; }
