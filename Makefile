# Cariflex — the two commands a newcomer needs are `make demo` and `make test`.
.PHONY: demo demo-fast vtn test test-fast venv services lint bench bench-tls fuzz clean demo-clean

venv:
	@bash scripts/bootstrap-venv.sh

services:
	@bash scripts/ensure-services.sh postgresql redis mosquitto

## The whole gateway on the 40 Martinique sites (VTN on SQLite with its embedded defaults, FlexMeasures,
## the VENs, a site simulator) and an EDF SEI evening-peak alert at 18:00 local; Ctrl-C stops it.
## Options go in DEMO_ARGS, e.g. `make demo DEMO_ARGS="--fast 8 --level ORANGE"` (`cariflex demo --help`).
demo: venv
	.venv/bin/cariflex demo $(DEMO_ARGS)

## The same with the evening compressed into one quarter hour (now or the next): the whole story in 9-25 minutes.
demo-fast: venv
	.venv/bin/cariflex demo --fast $(DEMO_ARGS)

## The VTN alone with its embedded defaults (SQLite, config/vtn.toml).
vtn: venv
	.venv/bin/cariflex vtn

## Run the whole test suite (starts PostgreSQL, Redis and Mosquitto when they are not running; installs the
## prometheus, promtool and influxd binaries, which the tests start themselves on free ports).
test: venv services
	@bash scripts/ensure-browser.sh
	@bash scripts/ensure-nginx.sh
	@bash scripts/ensure-services.sh prometheus influxdb
	.venv/bin/ruff check .
	.venv/bin/lint-imports --no-cache --no-logo
	@bash scripts/run-tests.sh

## The fast lane, for the edit-test loop: the tests that need nothing but the pytest process — no PostgreSQL,
## FlexMeasures, Mosquitto, demo, VTN/VEN processes, nginx or browser, none marked slow — in 2 to 4 minutes on a
## 2-core machine (they mostly wait on sockets and clocks: 4 workers). `make test` still runs everything.
## Which tests, and how the markers are kept: tests/support/lanes.py.
test-fast: venv
	.venv/bin/python -m pytest -q -p no:cacheprovider -n $${CARIFLEX_FAST_WORKERS:-4} --dist loadgroup --durations=10 \
		-m "not slow and not external" tests

lint: venv
	.venv/bin/ruff check .
	.venv/bin/lint-imports --no-cache --no-logo
	.venv/bin/ruff format --check .

## Benchmarks (not tests): poll throughput against stock openleadr.
bench: venv services
	.venv/bin/python bench/poll_bench.py

## Poll throughput over mutual TLS (keep-alive, handshake per poll, XML-signed) next to stock openleadr.
bench-tls: venv
	.venv/bin/python bench/tls_bench.py

## A long fuzz run of the XML codec and the 2.0b endpoints (FUZZ_EXAMPLES cases per property).
fuzz: venv
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-50000} .venv/bin/python -m pytest -q -p no:cacheprovider --hypothesis-show-statistics \
		tests/test_fuzz_codec.py tests/test_fuzz_http.py

## Remove the demo's data (var/demo: the VTN and VEN stores, logs, FlexMeasures run files).
demo-clean:
	rm -rf var/demo

clean: demo-clean
	rm -rf .venv .pytest_cache .ruff_cache
