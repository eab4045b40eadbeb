#!/usr/bin/env bash
# Installs whatever Ferry needs that this Debian 12 machine lacks: build dependencies, and with --test the
# real clients and servers the test suite drives (discord.py, discord.js, Chromium, Prosody, ...).
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

build_pkgs=(build-essential cmake pkg-config git libboost-dev nlohmann-json3-dev libsqlite3-dev
  libarchive-dev libcli11-dev libspdlog-dev libfmt-dev zlib1g-dev libssl-dev libgtest-dev googletest
  libsimdjson-dev sqlite3 ca-certificates)
test_pkgs=(python3 python3-discord python3-jsonschema python3-yaml python3-slixmpp nodejs npm zip unzip
  chromium prosody lua-dbi-sqlite3 procps psmisc curl python3-aiohttp openssl)

pkgs=("${build_pkgs[@]}")
[ $want_test = 1 ] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node/npm may come from outside Debian's packages (nodesource, nvm): accept them when present.
if command -v node >/dev/null && command -v npm >/dev/null; then
  tmp=(); for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || tmp+=("$p"); done
  missing=("${tmp[@]+"${tmp[@]}"}")
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "ferry setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" != 0 ] && SUDO=sudo
  # Installing prosody must not start (and keep running) the system service: tests start their own.
  if printf '%s\n' "${missing[@]}" | grep -qx prosody && [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ $want_test = 1 ]; then
  # npm test clients (discord.js and friends), pinned by tests/clients/js/package-lock.json when present.
  if [ -f tests/clients/js/package.json ] && [ ! -d tests/clients/js/node_modules ]; then
    echo "ferry setup: installing npm test clients"
    (cd tests/clients/js && { [ -f package-lock.json ] && npm ci --no-audit --no-fund --loglevel=error || npm install --no-audit --no-fund --loglevel=error; })
  fi
fi
