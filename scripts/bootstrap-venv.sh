#!/usr/bin/env bash
# Create .venv with Python >= 3.11 and install Cariflex with its dev extras.
# Installs Debian's python3-venv first when venv is missing (fresh Debian machines lack it).
set -euo pipefail
cd "$(dirname "$0")/.."

python_bin=""
for candidate in python3.11 python3; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    python_bin=$candidate; break
  fi
done
if [ -z "$python_bin" ]; then
  echo "error: Python 3.11 or newer is needed (Debian 12: apt-get install python3)" >&2; exit 1
fi

if [ ! -x .venv/bin/python ]; then
  if ! "$python_bin" -m venv --help >/dev/null 2>&1 || ! "$python_bin" -c 'import ensurepip' >/dev/null 2>&1; then
    echo "==> installing python3-venv (Debian package)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  fi
  echo "==> creating .venv with $python_bin"
  "$python_bin" -m venv .venv
fi

stamp=.venv/.cariflex-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "==> installing Cariflex and its dependencies into .venv (a minute on a fresh machine)"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet --progress-bar off -e '.[dev]'
  touch "$stamp"
fi
