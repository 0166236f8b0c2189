#!/usr/bin/env bash
# The browser tests drive Debian's chromium (never a downloaded browser build): install it when missing.
# Idempotent; called by `make test`. Needs root (or sudo) only when chromium is absent.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "error: /usr/bin/chromium is missing; install Debian's chromium (sudo apt-get install -y chromium)" >&2
  exit 1
fi
echo "==> installing Debian's chromium for the browser tests"
apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
