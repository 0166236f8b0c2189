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
from pathlib import Path

import pytest

from tests.support.demo_run import BackgroundDemo
from tests.support.ui import login

BIN = Path(sys.executable).parent
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
    opted_in = int(re.findall(r"opt answers: (\d+) optIn", text)[-1])
    assert opted_in == 40, "every site is enrolled in the SEI program and a RED level leaves them above 1 kW"
    devices = max(int(n) for n in re.findall(r"FlexMeasures schedules for \S+ UTC: (\d+) devices", text))
    assert devices == 30, "the 10 batteries, 10 EV chargers and 10 V2G chargers are scheduled (PV is not flexible)"


def test_the_achieved_curtailment_is_positive_and_what_the_vtn_stored(finished: BackgroundDemo) -> None:
    outcome = json.loads((finished.data_dir / "outcome.json").read_text())
    curtailment = outcome["curtailment"]
    opted_in = {ven for ven, opt in outcome["opts"].items() if opt == "optIn"}
    reported = {site["ven_id"] for site in curtailment["sites"]}
    assert opted_in <= reported, "every site that opted in reported its curtailment"
    total = sum(i["achieved_kw"] for i in curtailment["total"] if i["achieved_kw"] is not None)
    assert total > 0, curtailment["total"]
    # what an operator gets from the VTN's store afterwards: the same numbers
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
    assert json.loads(stored.stdout) == curtailment


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
    finished.stop()  # SIGINT, as Ctrl-C in its terminal
    assert finished.process.returncode == 130
    assert not _listening(url) and not _listening(fm_url.group(1))
    leftovers = subprocess.run(["pgrep", "-f", str(finished.data_dir)], capture_output=True, text=True)
    assert leftovers.stdout == "", f"processes of the demo still running: {leftovers.stdout}"
