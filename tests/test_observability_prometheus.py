"""A real Prometheus (Debian's 2.42) on the shipped config/prometheus/prometheus.yml — only the targets and intervals
replaced — scrapes a real `cariflex vtn` and a real `cariflex ven` process with the documented bearer token, loads
the shipped alert rules, and answers every query of the Grafana dashboard with data once a VEN registered, polled,
reported and was given an event. The alert rules pass `promtool check rules` and their unit tests."""

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
import yaml

from mapping.oadr import model as m
from mapping.oadr import report_model as r
from tests.support.dashboard import load, panel_queries
from tests.support.eventually import eventually
from tests.support.oadr_client import RawClient
from tests.support.prometheus import CONFIG_DIR, RULES, RULES_TESTS, api, binary, query, render_config, running_prometheus
from tests.support.reports import update
from tests.support.vtn_process import wait_base_url

ROOT = Path(__file__).resolve().parents[1]
CARIFLEX = [sys.executable, "-m", "cariflex.cli"]
TOKEN = "prometheus-scrape-token-0123456789"
VTN_ID = "CARIFLEX-PROM-VTN"
SITE = "site-prom"
#: the dashboard's time variables, as Grafana would fill them for a short range at a 1 s scrape interval
TIME_VARIABLES = {"$__rate_interval": "1m", "$__interval": "1s", "$__range": "5m"}


@dataclass(frozen=True)
class NoData:
    """Why a panel query returns nothing in this run, and the metric family Prometheus must still have seen (its
    metadata, from the scrape): a labelled counter has no series before its first increment."""

    family: str
    why: str
    #: True: nothing here can make it count (the part is off), so data would mean the exemption is stale
    structural: bool = True


NO_DATA_BY_NATURE = {
    "sum by (result) (rate(cariflex_push_attempts_total[5m]))": NoData(
        "cariflex_push_attempts_total", "no push-mode VEN here (tests/test_push_delivery.py pushes)"
    ),
    "sum by (error) (rate(cariflex_ven_cycle_failures_total[5m]))": NoData(
        "cariflex_ven_cycle_failures_total",
        "no poll cycle fails while the VTN runs (tests/test_observability_ven.py cuts the link); "
        "a poll timing out on a loaded machine would count one",
        structural=False,
    ),
    "sum by (result) (rate(cariflex_ven_flexmeasures_applications_total[5m]))": NoData(
        "cariflex_ven_flexmeasures_applications_total",
        "FlexMeasures is off in this VEN process (tests/test_flexmeasures_e2e.py applies constraints)",
    ),
    "sum by (reason) (rate(cariflex_ven_mqtt_messages_rejected_total[5m]))": NoData(
        "cariflex_ven_mqtt_messages_rejected_total",
        "MQTT telemetry is off in this VEN process (tests/test_observability_ven.py sends bad messages)",
    ),
}


def _vtn_config(tmp_path: Path) -> Path:
    path = tmp_path / "vtn.toml"
    path.write_text(
        f"""
[vtn]
vtn_id = "{VTN_ID}"
port = 0
poll_interval = "PT1S"
[store]
url = "sqlite:///{tmp_path / "vtn.db"}"
[[programs]]
program_id = "test"
market_context = "http://cariflex.mq/programs/test"
[[reports.on_registration]]
report = "TELEMETRY_USAGE"
granularity = "PT1S"
report_back = "PT2S"
[metrics]
token = "env:CFX_PROM_METRICS_TOKEN"
"""
    )
    return path


def _ven_config(tmp_path: Path, vtn_base: str) -> Path:
    (tmp_path / "sites.toml").write_text(f'[[sites]]\nname = "{SITE}"\n')
    path = tmp_path / "ven.toml"
    path.write_text(
        f"""
sites_file = "sites.toml"
[vtn]
url = "{vtn_base}/OpenADR2/Simple/2.0b"
vtn_id = "{VTN_ID}"
[store]
path = "{tmp_path / "ven.db"}"
[poll]
default_interval = "PT1S"
[metrics]
enabled = true
port = 0
token = "env:CFX_PROM_METRICS_TOKEN"
"""
    )
    return path


def _env() -> dict[str, str]:
    """The environment of the `cariflex` commands: the configurations read the token as `env:NAME`."""
    return {**os.environ, "CFX_PROM_METRICS_TOKEN": TOKEN}


@contextmanager
def _process(args: list[str], log: Path, **kwargs: object) -> Iterator[subprocess.Popen]:
    """A `cariflex` process (JSON logs into `log`), stopped with SIGTERM on leaving; it must exit 0."""
    with log.open("w") as err:
        process = subprocess.Popen([*CARIFLEX, "--log-format", "json", *args], cwd=ROOT, env=_env(), stderr=err, **kwargs)  # type: ignore[call-overload]
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=60)
    assert code == 0, f"{args[0]} exited {code}:\n{log.read_text()[-3000:]}"


def _ops_address(log: Path) -> str | None:
    """host:port of a VEN process's operations listener, from its log line."""
    for line in log.read_text().splitlines():
        found = re.search(r"operations endpoints on http://([\d.]+:\d+)/metrics", json.loads(line)["message"])
        if found:
            return found.group(1)
    return None


async def _make_traffic(http: aiohttp.ClientSession, vtn_base: str, vtn_config: Path) -> None:
    """What the panels of refusals count: a poll and a report from a venID the VTN does not know; and an event
    for every VEN, created with the command line on the VTN's configuration (the VTN picks it up within a second)."""
    client = RawClient(http, vtn_base)
    answer = await client.poll("no-such-ven")
    assert isinstance(answer, m.Response) and answer.response.code != 200, answer
    request = r.ReportRequest("no-such-request", "usage-spec", timedelta(minutes=1), timedelta(minutes=1))
    refused = await client.send("EiReport", update("no-such-ven", request, [[1.0, 0.0, 0.0]]))
    assert refused is not None and refused.response.code != 200, refused  # type: ignore[attr-defined]
    done = await asyncio.to_thread(
        subprocess.run,
        [*CARIFLEX, "event", "create", "--config", str(vtn_config), "--program", "test", "--start-in", "PT1H"],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


async def _empty_queries(http: aiohttp.ClientSession, base: str, queries: list[tuple[str, str]]) -> list[str]:
    return [f"{title}: {expr}" for title, expr in queries if not await query(http, base, expr)]


def _substituted(expr: str) -> str:
    for name, value in TIME_VARIABLES.items():
        expr = expr.replace(name, value)
    assert "$" not in expr, f"a dashboard variable this test does not fill: {expr}"
    return expr


@pytest.mark.external  # prometheus, promtool and `cariflex` processes
async def test_prometheus_scrapes_both_processes_and_answers_every_dashboard_query(tmp_path: Path) -> None:
    vtn_config = _vtn_config(tmp_path)
    with _process(["vtn", "--config", str(vtn_config)], tmp_path / "vtn.log", stdout=subprocess.PIPE, text=True) as vtn:
        vtn_base = await asyncio.wait_for(asyncio.to_thread(wait_base_url, vtn), timeout=60)
        ven_log = tmp_path / "ven.log"
        with _process(["ven", "--config", str(_ven_config(tmp_path, vtn_base))], ven_log, stdout=subprocess.DEVNULL) as ven:
            await eventually(lambda: _ops_address(ven_log), what="the VEN process's metrics listener", timeout=60)
            ven_address = _ops_address(ven_log)
            assert ven_address is not None
            targets = {"cariflex-vtn": [vtn_base.removeprefix("http://")], "cariflex-ven": [ven_address]}
            config = render_config(tmp_path, targets, "1s", TOKEN)
            checked = subprocess.run([binary("promtool"), "check", "config", str(config)], capture_output=True, text=True)
            assert checked.returncode == 0, checked.stdout + checked.stderr
            async with aiohttp.ClientSession() as http, running_prometheus(config, http) as prom:

                async def all_up() -> bool:
                    active = (await api(http, prom, "targets", state="active"))["activeTargets"]
                    return sorted(t["labels"]["job"] for t in active if t["health"] == "up") == ["cariflex-ven", "cariflex-vtn"]

                await eventually(all_up, what="both targets up (scraped with the token)", timeout=30)

                async def registered() -> bool:
                    return bool(await query(http, prom, f'cariflex_ven_site_registered{{site="{SITE}"}} == 1'))

                await eventually(registered, what="the site VEN registered, as scraped", timeout=60)
                await _make_traffic(http, vtn_base, vtn_config)
                queries = [(title, _substituted(expr)) for title, expr in panel_queries(load())]
                expected = [(t, e) for t, e in queries if e not in NO_DATA_BY_NATURE]
                assert len(expected) >= 20 and set(NO_DATA_BY_NATURE) <= {e for _t, e in queries}

                async def every_panel_has_data() -> bool:
                    return not await _empty_queries(http, prom, expected)

                # the last-seen age appears once the VTN stored a last-seen time (every 30 s)
                try:
                    await eventually(every_panel_has_data, what="data for every panel query", timeout=90)
                except pytest.fail.Exception:
                    pytest.fail(f"panel queries without data: {await _empty_queries(http, prom, expected)}")
                for expr, nodata in NO_DATA_BY_NATURE.items():
                    if nodata.structural:
                        assert await query(http, prom, expr) == [], f"{expr} has data now: take it out of NO_DATA_BY_NATURE"
                    metadata = await api(http, prom, "metadata", metric=nodata.family)
                    assert metadata.get(nodata.family), f"{nodata.family} ({nodata.why}): never scraped"
                await _rules_evaluate(http, prom)
                ven.send_signal(signal.SIGTERM)
                await asyncio.to_thread(ven.wait, 60)

                async def ven_down_pending() -> bool:
                    return bool(await query(http, prom, 'ALERTS{alertname="CariflexVenProcessDown", alertstate="pending"}'))

                await eventually(ven_down_pending, what="CariflexVenProcessDown pending once the VEN process stopped", timeout=30)
                assert not await query(http, prom, 'ALERTS{alertname="CariflexVtnDown"}')


async def _rules_evaluate(http: aiohttp.ClientSession, prom: str) -> None:
    """Every shipped alert rule is loaded and evaluates without error on the real series; none fires on this
    healthy pair of processes."""
    wanted = {rule["alert"] for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]}

    async def evaluated() -> bool:
        rules = [rule for group in (await api(http, prom, "rules"))["groups"] for rule in group["rules"]]
        return {rule["name"] for rule in rules} == wanted and all(rule["health"] == "ok" for rule in rules)

    await eventually(evaluated, what=f"the rules {sorted(wanted)} loaded and evaluated without error", timeout=30)
    firing = await query(http, prom, 'ALERTS{alertstate="firing"}')
    assert firing == [], firing


@pytest.mark.external  # promtool
def test_the_alert_rules_pass_promtool_and_their_unit_tests() -> None:
    promtool = binary("promtool")
    checked = subprocess.run([promtool, "check", "rules", RULES.name], cwd=CONFIG_DIR, capture_output=True, text=True)
    assert checked.returncode == 0 and "SUCCESS" in checked.stdout, checked.stdout + checked.stderr
    tested = subprocess.run([promtool, "test", "rules", RULES_TESTS.name], cwd=CONFIG_DIR, capture_output=True, text=True)
    assert tested.returncode == 0 and "SUCCESS" in tested.stdout, tested.stdout + tested.stderr


def test_every_alert_rule_has_a_unit_test_that_fires_it() -> None:
    rules = {rule["alert"] for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]}
    fired = {
        case["alertname"]
        for test in yaml.safe_load(RULES_TESTS.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert len(rules) >= 8 and rules <= fired, rules - fired
