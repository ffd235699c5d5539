#!/usr/bin/env bash
# Installs the Debian packages the tests need and that npm cannot bring: bubblewrap, the sandbox of verify
# commands and command health checks. Idempotent and quiet; as root, or through sudo. Called by .ci/run and by
# jest's global setup, so `npm install && npm test` works on a fresh Debian or Ubuntu machine.
set -euo pipefail
missing=()
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
[ "${#missing[@]}" -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install these packages with your system's package manager: ${missing[*]}" >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then as_root=(); else as_root=(sudo -n); fi
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
