#!/usr/bin/env bash
# The whole test suite, what `make test` and CI run, in two stages side by side:
#  - the background demo's tests (tests/test_demo.py) in a pytest process of their own: the demo needs a
#    real quarter hour of event, 9 to 25 minutes from its start, so it starts first and runs beside the rest;
#  - every other test on pytest-xdist workers (CARIFLEX_TEST_WORKERS, default 2); a worker that runs a
#    FlexMeasures test starts a FlexMeasures server of its own for the rest of its session
#    (tests/support/flexmeasures.py), so those tests spread over the workers like the others.
# Both outputs are printed (the demo's after the rest); the exit status is non-zero when either stage failed,
# and the last line counts the tests of both.
set -uo pipefail
cd "$(dirname "$0")/.."

workers=${CARIFLEX_TEST_WORKERS:-2}
pytest=(.venv/bin/python -m pytest -q -p no:cacheprovider)
logs=$(mktemp -d)

# a background job of a script starts with SIGINT ignored, and pytest would keep it so: restore it, so that
# Ctrl-C (and the trap below) stop the demo's stage too
python3 -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])' \
  "${pytest[@]}" tests/test_demo.py >"$logs/demo.txt" 2>&1 &
demo_pid=$!
trap 'kill -INT "$demo_pid" 2>/dev/null; wait "$demo_pid"; exit 130' INT TERM

"${pytest[@]}" -n "$workers" --dist loadgroup --durations=15 --ignore=tests/test_demo.py "$@" tests 2>&1 | tee "$logs/main.txt"
main_status=${PIPESTATUS[0]}
echo "==> waiting for the demo's tests (tests/test_demo.py, started beside the rest)"
wait "$demo_pid"
demo_status=$?
trap - INT TERM
cat "$logs/demo.txt"

count() {  # from each stage's closing line (pytest's summary)
  for log in "$logs/main.txt" "$logs/demo.txt"; do tail -n 1 "$log"; done | grep -oE "[0-9]+ $1" | awk '{n += $1} END {print n + 0}'
}
echo "==> make test: the rest exited $main_status, the demo's tests exited $demo_status"
echo "$(count passed) passed, $(( $(count failed) + $(count error) )) failed, $(count skipped) skipped"
rm -rf "$logs"
[ "$main_status" -eq 0 ] && [ "$demo_status" -eq 0 ]
