#!/usr/bin/env bash
# The whole test suite, what `make test` and CI run, in two stages side by side:
#  - the quarter-hour stage: the tests marked `quarter_hour`, which wait for a real quarter hour (a window of
#    15 minutes must be over before what they check exists), in a pytest process of its own that starts first:
#    the background demo's tests (tests/test_demo.py: `cariflex demo --fast` runs in a subprocess from collection,
#    9 to 25 minutes, and its tests run last) and, meanwhile, the others (an aggregator's order measured on a real
#    FlexMeasures, tests/test_aggregator_delivery.py), so the stage takes about as long as the demo;
#  - every other test on pytest-xdist workers (CARIFLEX_TEST_WORKERS, default 2); a worker that runs a
#    FlexMeasures test starts a FlexMeasures server of its own for the rest of its session
#    (tests/support/flexmeasures.py), so those tests spread over the workers like the others.
# Both outputs are printed (the quarter-hour stage's after the rest); the exit status is non-zero when either stage
# failed, and the last line counts the tests of both.
set -uo pipefail
cd "$(dirname "$0")/.."

workers=${CARIFLEX_TEST_WORKERS:-2}
pytest=(.venv/bin/python -m pytest -q -p no:cacheprovider)
logs=$(mktemp -d)

# a background job of a script starts with SIGINT ignored, and pytest would keep it so: restore it, so that
# Ctrl-C (and the trap below) stop the quarter-hour stage (and its demo) too
python3 -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])' \
  "${pytest[@]}" -m quarter_hour tests >"$logs/quarter.txt" 2>&1 &
quarter_pid=$!
trap 'kill -INT "$quarter_pid" 2>/dev/null; wait "$quarter_pid"; exit 130' INT TERM

"${pytest[@]}" -n "$workers" --dist loadgroup --durations=15 -m "not quarter_hour" "$@" tests 2>&1 | tee "$logs/main.txt"
main_status=${PIPESTATUS[0]}
echo "==> waiting for the quarter-hour stage (the tests marked quarter_hour, the demo's among them, started beside the rest)"
wait "$quarter_pid"
quarter_status=$?
trap - INT TERM
cat "$logs/quarter.txt"

count() {  # from each stage's closing line (pytest's summary)
  for log in "$logs/main.txt" "$logs/quarter.txt"; do tail -n 1 "$log"; done | grep -oE "[0-9]+ $1" | awk '{n += $1} END {print n + 0}'
}
echo "==> make test: the rest exited $main_status, the quarter-hour stage exited $quarter_status"
echo "$(count passed) passed, $(( $(count failed) + $(count error) )) failed, $(count skipped) skipped"
rm -rf "$logs"
[ "$main_status" -eq 0 ] && [ "$quarter_status" -eq 0 ]
