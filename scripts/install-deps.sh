#!/usr/bin/env bash
# Installs the Debian 12 packages dsv2 builds and tests with. Idempotent; needs root (or sudo).
set -euo pipefail
PKGS=(g++ cmake ninja-build pkg-config ccache git
      nlohmann-json3-dev libcli11-dev libpcre2-dev libcpp-httplib-dev libssl-dev zlib1g-dev libbrotli-dev
      libgtest-dev libgmock-dev libbenchmark-dev clang libclang-rt-14-dev)
missing=()
# Node.js + npm drive the server tests with the official openai client; the machine image may
# already ship a Node.js that bundles npm (and conflicts with Debian's npm package).
command -v node >/dev/null || PKGS+=(nodejs)
command -v npm >/dev/null || PKGS+=(npm)
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
