#!/usr/bin/env bash
# A real FlexMeasures 1.0.1 server for Cariflex's development and tests.
#
# Usage:
#   scripts/flexmeasures.sh install                  # its own venv (default .venv-flexmeasures), reused when current
#   scripts/flexmeasures.sh start [options]          # database, Redis check, migrations, account, user, server, worker
#                                                    # (--tile-url URL: the maps' tile server, default OpenStreetMap)
#   scripts/flexmeasures.sh stop [--drop-database]   # stops the server and the worker (and drops the database)
#   scripts/flexmeasures.sh status                   # what runs, where, and whether the server answers
#
# start/stop/status are scripts/flexmeasures_server.py run with the FlexMeasures venv's Python;
# `scripts/flexmeasures.sh start --help` lists their options (port, database name, run directory, user).
# install and start (re-)apply config/map-init-patch.js to FlexMeasures' UI: its maps on OpenStreetMap
# tiles instead of Mapbox's (scripts/fm_map_patch.py; it stops with an error if FlexMeasures' files changed).
#
# Environment:
#   CARIFLEX_FM_VENV    the FlexMeasures venv (default: <repo>/.venv-flexmeasures)
#   CARIFLEX_FM_PYTHON  the Python >= 3.11 that creates it (default: python3.11, then python3)
#   CARIFLEX_FM_TILE_URL  the maps' tile URL template (default https://tile.openstreetmap.org/{z}/{x}/{y}.png)
# Works non-interactively (CI=true, no stdin, root). See docs/flexmeasures.md.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
venv=${CARIFLEX_FM_VENV:-$repo/.venv-flexmeasures}
# The unpinned set is broken at run time: Flask-Security-Too 5.9 crashes every command at start,
# SQLAlchemy 2.1 sends postgresql:// to psycopg 3 (docs/flexmeasures.md, "Pitfalls").
requirements=("flexmeasures==1.0.1" "flask-security-too==5.8.1" "sqlalchemy<2.1")
stamp=$venv/.cariflex-flexmeasures-stamp

say() { echo "==> [flexmeasures] $*"; }
die() { echo "error: [flexmeasures] $*" >&2; exit 1; }

stamp_text() { printf '%s\n' "${requirements[@]}"; }

# Exit 0 when the venv holds exactly what `requirements` asks for.
installed_matches() {
  [ -x "$venv/bin/python" ] && [ -x "$venv/bin/flexmeasures" ] || return 1
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(stamp_text)" ] || return 1
  "$venv/bin/python" - <<'EOF' >/dev/null 2>&1
import sys
from importlib.metadata import version
ok = (
    version("flexmeasures") == "1.0.1"
    and version("flask-security-too") == "5.8.1"
    and tuple(int(p) for p in version("sqlalchemy").split(".")[:2]) < (2, 1)
)
sys.exit(0 if ok else 1)
EOF
}

pick_python() {
  local candidate
  for candidate in ${CARIFLEX_FM_PYTHON:-} python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 \
      && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  return 1
}

cmd_install() {
  # Two test sessions may install at once: one waits for the other, then reuses its venv.
  local lock
  lock="${TMPDIR:-/tmp}/cariflex-flexmeasures-install-$(printf '%s' "$venv" | md5sum | cut -c1-12).lock"
  exec 9>"$lock"
  if ! flock -n 9; then
    say "another install into $venv is running: waiting for it"
    flock 9
  fi
  if installed_matches; then
    say "reusing $venv (flexmeasures 1.0.1, flask-security-too 5.8.1, sqlalchemy<2.1)"
    apply_map_patch
    return 0
  fi
  local python_bin log started
  python_bin=$(pick_python) || die "Python 3.11 or newer is needed to create $venv (Debian 12: apt-get install python3 python3-venv)"
  if [ ! -x "$venv/bin/python" ]; then
    say "creating $venv with $python_bin"
    "$python_bin" -m venv "$venv" </dev/null \
      || die "could not create a venv with $python_bin (Debian: apt-get install python3-venv)"
  fi
  rm -f "$stamp"
  log=$venv/install.log
  started=$(date +%s)
  say "installing ${requirements[*]} into $venv (about 1.5 GB, 1 to 5 minutes; full log: $log)"
  "$venv/bin/python" -m pip install --upgrade pip </dev/null >"$log" 2>&1 \
    || say "could not upgrade pip (continuing with the venv's own; see $log)"
  # pip's own progress bar needs a TTY; print one line per package instead, keep everything in the log.
  local rc=0
  set +e
  "$venv/bin/python" -m pip install --progress-bar off "${requirements[@]}" </dev/null 2>&1 \
    | tee -a "$log" \
    | grep --line-buffered -E '^(Collecting|Processing|Installing collected|Successfully installed|ERROR|error:)' \
    | sed -u -E 's/^Collecting /    collecting /; s/^Processing ([^ ]*\/)?([^ ]*).*/    collecting \2/; s/^(Successfully installed).*/    \1 (see the log for the list)/'
  rc=${PIPESTATUS[0]}
  set -e
  if [ "$rc" -ne 0 ]; then
    echo "---- last lines of $log ----" >&2
    tail -n 40 "$log" >&2
    die "pip could not install ${requirements[*]} (exit $rc). Is PyPI reachable? Full log: $log"
  fi
  installed_matches_without_stamp || die "pip finished but the versions in $venv are not the pinned ones (log: $log)"
  apply_map_patch
  stamp_text >"$stamp"
  say "installed in $(( $(date +%s) - started )) s: $("$venv/bin/python" -c 'from importlib.metadata import version as v; print(", ".join(f"{p} {v(p)}" for p in ("flexmeasures", "flask-security-too", "sqlalchemy", "highspy")))')"
}

# FlexMeasures' maps on OpenStreetMap (config/map-init-patch.js); idempotent, so run on every install and start:
# a reinstalled FlexMeasures gets it back.
apply_map_patch() {
  "$venv/bin/python" "$repo/scripts/fm_map_patch.py" </dev/null \
    || die "could not apply config/map-init-patch.js to FlexMeasures' UI in $venv (the reason is above)"
}

installed_matches_without_stamp() {
  local saved
  saved=$(stamp_text)
  printf '%s\n' "$saved" >"$stamp"
  if installed_matches; then return 0; fi
  rm -f "$stamp"; return 1
}

run_helper() {
  [ -x "$venv/bin/python" ] || die "no FlexMeasures venv at $venv: run 'scripts/flexmeasures.sh install' first"
  installed_matches || die "$venv is not a complete FlexMeasures 1.0.1 install: run 'scripts/flexmeasures.sh install'"
  if [ "$1" = start ]; then apply_map_patch; fi
  exec "$venv/bin/python" "$repo/scripts/flexmeasures_server.py" --venv "$venv" "$@" </dev/null
}

case "${1:-}" in
  install) shift; [ $# -eq 0 ] || die "install takes no arguments"; cmd_install ;;
  start|stop|status) run_helper "$@" ;;
  -h|--help|help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
