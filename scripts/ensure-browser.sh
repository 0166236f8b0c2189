#!/usr/bin/env bash
# The browser tests drive Debian's chromium (never a downloaded browser build): install it when missing,
# with Debian's Leaflet 1.7.1 (libjs-leaflet), which the FlexMeasures map test serves in place of the CDN
# copy FlexMeasures' pages ask for (no internet here; tests/test_flexmeasures_map.py).
# Idempotent; called by `make test`. Needs root (or sudo) only when something is absent.
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -f /usr/share/javascript/leaflet/leaflet.js ] || missing+=(libjs-leaflet)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "error: ${missing[*]} missing; install Debian's packages (sudo apt-get install -y ${missing[*]})" >&2
  exit 1
fi
echo "==> installing Debian's ${missing[*]} for the browser tests"
apt-get -o DPkg::Lock::Timeout=600 update -qq \
  && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null
