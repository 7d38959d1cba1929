#!/usr/bin/env bash
# Installs headless Chromium (the Debian package) for the server's browser test
# (crates/server/tests/browser.rs). Needs root or sudo and apt; exits 0 when Chromium is
# already there, 1 (with the reason) when it cannot be installed. Never needed by the product.
set -euo pipefail
for name in chromium chromium-browser google-chrome; do
  if command -v "$name" >/dev/null 2>&1; then
    echo "chromium: found $(command -v "$name")"
    exit 0
  fi
done
if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium: not installed and apt-get is missing; install Chromium by hand" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo="sudo -n"
  else
    echo "chromium: not installed; apt-get needs root (no sudo here)" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# fonts-dejavu-core: the screenshot needs at least one font.
$sudo apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core
command -v chromium
