"""`cariflex demo --fast` (what `make demo-fast` runs) end to end: the real gateway — FlexMeasures 1.0.1 with
the 40 sites, the VTN, the 40 VENs, the site simulator over a real Mosquitto — one EDF SEI alert, and
the achieved curtailment it reports, checked against the VTN's store. Then Ctrl-C, and nothing left.

The demo runs in the background of the whole session (tests/support/demo_run.py): these tests run
last and wait for it.
"""

import json
import re
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.demo_run import BackgroundDemo
from tests.support.eventually import eventually_sync
from tests.support.ui import login

# it waits for the demo's real quarter hour of event: scripts/run-tests.sh runs it in the quarter-hour stage
pytestmark = pytest.mark.quarter_hour

BIN = Path(sys.executable).parent
#: the home batteries of config/sites.toml (typical household load 1.5–1.9 kW)
BATTERY_SITES = {f"site-{n}" for n in range(11, 21)}
PV_SITES = {f"site-{n:02d}" for n in range(1, 11)}
#: from the demo's start: setup (3 min), up to 20 minutes to the end of the event, the reports, and slack
DEMO_TIMEOUT_S = 35 * 60


def _wait_for(demo: BackgroundDemo, pattern: str, timeout: float) -> re.Match[str]:
    """The first match of `pattern` in the demo's output, waiting up to `timeout` s after the demo started."""
    deadline = demo.started + timeout
    while time.monotonic() < deadline:
        found = re.search(pattern, demo.text())
        if found:
            return found
        if demo.process.poll() is not None:
            pytest.fail(f"the demo stopped (exit {demo.process.returncode}) before printing {pattern!r}:\n{demo.text()[-4000:]}")
        time.sleep(2)
    pytest.fail(f"the demo did not print {pattern!r} within {timeout:.0f} s:\n{demo.text()[-4000:]}")


def _listening(url: str) -> bool:
    host, port = re.match(r"https?://([^:/]+):(\d+)", url).groups()  # type: ignore[union-attr]
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, int(port))) == 0


@pytest.fixture(scope="module")
def finished(background_demo: BackgroundDemo) -> BackgroundDemo:
    """The demo once it has printed the event's achieved curtailment."""
    _wait_for(background_demo, r"written to \S+outcome\.json", DEMO_TIMEOUT_S)
    return background_demo


def test_the_alert_reaches_every_site_and_flexmeasures_schedules_the_storage(finished: BackgroundDemo) -> None:
    text = finished.text()
    assert "VENs registered with their reports: 40/40" in text
    assert re.search(r"→ event sei-peak-\d{4}-\d\d-\d\d", text)
    assert "delivered to 40 VENs" in text
    opted_in, opted_out = (int(n) for n in re.findall(r"opt answers: (\d+) optIn, (\d+) optOut", text)[-1])
    # a RED alert sheds the flexible load: the batteries, EV chargers and V2G cars take part; a PV roof has nothing
    # to shed in the evening and says so
    assert (opted_in, opted_out) == (30, 10), (opted_in, opted_out)
    devices = max(int(n) for n in re.findall(r"storage schedules dispatched for \S+ UTC: (\d+) devices", text))
    assert devices == 30, "the 10 batteries, 10 EV chargers and 10 V2G cars took the schedules their VENs dispatched"
    # they took them as S2 instructions: each one's Resource Manager paired with the VENs' CEM over a real WebSocket
    assert re.search(r"S2: 30 of 30 storage devices' Resource Managers paired with the VENs' CEM at ws://127\.0\.0\.1:\d+/", text)


def unreported_intervals(outcome: dict[str, Any], now: datetime) -> list[str]:
    """Every ended interval of an opted-in site that lacks its measured or achieved value (or the site itself,
    when the VTN has no curtailment for it at all), as "site start: what" lines; empty when all reported."""
    curtailment = outcome["curtailment"] or {"sites": []}
    sites = {site["ven_id"]: site for site in curtailment["sites"]}
    problems = []
    for ven_id in sorted(ven for ven, opt in outcome["opts"].items() if opt == "optIn"):
        name = outcome["delivered"].get(ven_id, ven_id)
        site = sites.get(ven_id)
        if site is None or not site["intervals"]:
            problems.append(f"{name}: no curtailment at the VTN")
            continue
        for interval in site["intervals"]:
            if datetime.fromisoformat(interval["end"]) > now:
                continue
            lacking = [key for key in ("measured_kw", "achieved_kw") if interval[key] is None]
            if lacking:
                problems.append(f"{name} {interval['start']}: no {' or '.join(lacking)} ({interval['quality']})")
    return problems


def settled_on_meter_data(outcome: dict[str, Any]) -> list[str]:
    """Every opted-in site whose figures are not the VTN's own, final ones (from the meter operator's load curves),
    or whose achieved is not its baseline − measured; empty when all are."""
    problems = []
    opted_in = {ven for ven, opt in outcome["opts"].items() if opt == "optIn"}
    for site in outcome["curtailment"]["sites"]:
        if site["ven_id"] not in opted_in:
            continue
        if not site["final"] or not any(source.startswith("meter file") for source in site["sources"]):
            problems.append(f"{site['ven_name']}: {site['sources']} final={site['final']}")
        for i in site["intervals"]:
            if None not in (i["baseline_kw"], i["measured_kw"]) and i["achieved_kw"] != pytest.approx(
                i["baseline_kw"] - i["measured_kw"], abs=1e-6
            ):
                problems.append(f"{site['ven_name']} {i['start']}: achieved ≠ baseline − measured")
    return problems


def test_every_opted_in_site_is_settled_by_the_vtn_on_the_meter_operators_curves(finished: BackgroundDemo) -> None:
    assert "opted-in VENs reported their curtailment by" not in finished.text(), "the demo gave up waiting for reports"
    outcome = json.loads((finished.data_dir / "outcome.json").read_text())
    assert outcome["opts"], "no opt answers"
    assert unreported_intervals(outcome, datetime.now(UTC)) == [], "every site that opted in reported every interval"
    total = sum(i["achieved_kw"] for i in outcome["curtailment"]["total"] if i["achieved_kw"] is not None)
    assert total > 0, outcome["curtailment"]["total"]
    # the baseline (the same evening on earlier days) holds no pre-charging of the response's own: a home battery's is
    # its household's, at most the evening peak's 2.3 × its typical load (docs/flexmeasures.md)
    for site in outcome["curtailment"]["sites"]:
        if site["ven_name"] in BATTERY_SITES:
            baselines = [i["baseline_kw"] for i in site["intervals"] if i["baseline_kw"] is not None]
            assert baselines and max(baselines) <= 2.5 * 1.9, (site["ven_name"], baselines)
    # during the alert a battery covers its household as dispatched, never exporting and never run backwards (a battery
    # charging when told to discharge draws its charging power above its baseline: achieved far below −2 kW); together
    # the batteries deliver more than the PV roofs, which shed nothing at night (their households draw what they drew on
    # earlier evenings, give or take). A battery whose schedule came late in a quarter hour under way (`--fast` may
    # place the alert there) delivers little, not less than nothing.
    sites = {site["ven_name"]: site["intervals"] for site in outcome["curtailment"]["sites"]}
    roofs = [i["achieved_kw"] for name in PV_SITES for i in sites.get(name, []) if i["achieved_kw"] is not None]
    batteries = []
    for name in sorted(BATTERY_SITES):
        during = [i for i in sites.get(name, []) if i["achieved_kw"] is not None and i["measured_kw"] is not None]
        assert roofs and during, (name, sites.get(name))
        assert all(i["achieved_kw"] > -2.0 and i["measured_kw"] >= -0.5 for i in during), (name, during)
        batteries += [i["achieved_kw"] for i in during]
    assert sum(batteries) > sum(roofs), (batteries, roofs)
    # the VTN settles: its own x-of-y baselines on the load curves the demo's meter operator delivered, final; the
    # VENs' own baselines (rectangles of the hour before) are their claims, shown beside
    assert outcome["curtailment"]["method"].startswith("x-of-y: high 10 of 10 weekdays"), outcome["curtailment"]["method"]
    assert settled_on_meter_data(outcome) == []
    assert "the sites' load curves of the last 16 days delivered to the VTN" in finished.text()
    assert "the meters' 5-minute load curves of the run delivered to the VTN" in finished.text()


#: the least a kind's sites must lower their summed metered import, while asked, below what they would have drawn (kW)
KIND_RESPONSE_KW = 0.5
#: the least a site must lower its metered import by to count as having responded (kW; the meters' noise is none:
#: a site and its twin share their household, sun and EV, so any difference is the device's)
SITE_RESPONSE_KW = 0.1


def metered_response(metered: list[dict[str, Any]], kind: str) -> tuple[list[dict[str, Any]], float, int]:
    """A kind's sites whose device could lower the import when asked, what they lowered it by together (kW: their
    undispatched twins' mean import less their meters', from the alert to the event's end), and how many of them
    lowered it by SITE_RESPONSE_KW at least."""
    movable = [site for site in metered if site["kind"] == kind and site["movable"]]
    lowered = sum(site["uncontrolled_kw"] - site["measured_kw"] for site in movable)
    responding = sum(site["uncontrolled_kw"] - site["measured_kw"] >= SITE_RESPONSE_KW for site in movable)
    return movable, lowered, responding


def test_the_alert_lowers_the_metered_import_of_every_storage_kind_and_leaves_the_pv_roofs_as_they_were(
    finished: BackgroundDemo,
) -> None:
    """At the meter, per device kind: what the simulated meters measured from the alert to the event's end, against
    what the same sites measured undispatched (each site's twin: the same household, sun and EV; not zero, not a
    schedule). A RED alert asks every battery, EV charger and V2G car to lower its site's import; physics may leave a
    device nothing to give (an EV not plugged in, a battery at its reserve): those are not counted, but in the demo's
    evening nearly all can. A PV roof is asked nothing (it answers optOut: no sun to curtail)."""
    outcome = json.loads((finished.data_dir / "outcome.json").read_text())
    metered = outcome["metered"]
    assert {site["kind"] for site in metered} == {"battery", "evse", "v2g", "pv"} and len(metered) == 40, metered
    for kind in ("battery", "evse", "v2g"):
        movable, lowered, responding = metered_response(metered, kind)
        assert len(movable) >= 8, (kind, "most of the 10 devices could give something in the evening", metered)
        assert lowered >= KIND_RESPONSE_KW, (kind, lowered, movable)
        assert responding >= 3, (kind, responding, movable)
    for roof in (site for site in metered if site["kind"] == "pv"):
        assert not roof["movable"] and roof["measured_kw"] == pytest.approx(roof["uncontrolled_kw"], abs=0.05), roof
    assert re.search(r"metered import by device kind, .*\n(\s+(battery|evse|v2g|pv) .*\n){4}", finished.text())


def test_cariflex_reports_curtailment_shows_the_same_numbers(finished: BackgroundDemo) -> None:
    outcome = json.loads((finished.data_dir / "outcome.json").read_text())
    # what an operator gets from the VTN's store afterwards (the CLI's serialisation of the same query)
    stored = subprocess.run(
        [
            BIN / "cariflex",
            "reports",
            "curtailment",
            outcome["event_id"],
            "--format",
            "json",
            "--db",
            f"sqlite:///{finished.data_dir / 'vtn.db'}",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert json.loads(stored.stdout) == outcome["curtailment"]


async def test_the_ui_is_served_with_the_printed_login_and_ctrl_c_leaves_nothing_running(finished: BackgroundDemo) -> None:
    url, user, password = _wait_for(finished, r"operator UI: (\S+)/ui/\s+login: (\S+)\s+password: (\S+)", DEMO_TIMEOUT_S).groups()
    session = await login(url, user, password)  # asserts the 303 of a successful login
    try:
        async with session.get(f"{url}/ui/events") as page:
            assert page.status == 200 and "sei-peak-" in await page.text()
    finally:
        await session.close()
    fm_url = re.search(r"FlexMeasures ready at (\S+)", finished.text())
    assert fm_url and _listening(url) and _listening(fm_url.group(1))
    # the FlexMeasures server and worker do not name the data folder on their command line: known by their pids
    flexmeasures = finished.remember_flexmeasures()
    assert set(flexmeasures.pids) == {"server", "worker", "watchdog"} and flexmeasures.worker_name
    assert flexmeasures.running() == flexmeasures.pids
    finished.stop()  # SIGINT, as Ctrl-C in its terminal
    assert finished.process.returncode == 130
    assert not _listening(url) and not _listening(fm_url.group(1))
    leftovers = subprocess.run(["pgrep", "-f", str(finished.data_dir)], capture_output=True, text=True)
    assert leftovers.stdout == "", f"processes of the demo still running: {leftovers.stdout}"
    # stopped before the demo exits; only their reaping may lag
    eventually_sync(lambda: not flexmeasures.running(), "the demo's FlexMeasures processes stopped", timeout=30)
    workers = subprocess.run(["pgrep", "-f", flexmeasures.worker_name], capture_output=True, text=True)
    assert workers.stdout == "", f"the FlexMeasures worker still runs: {workers.stdout}"
