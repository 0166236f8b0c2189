"""What the demo reads back and prints, over its VTN's HTTP API as its operator: its delivered count covers every
VEN that answered (the VTN writes deliveries every few seconds, answers at once), its table is the one the CLI
prints, its login outlives the UI session, and the command line it prints reaches its store."""

import shlex
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from demo.outcome import read_outcome
from demo.run import on_store
from demo.vtn_api import VtnApi
from mapping.oadr import model as m
from tests.support.curtailment_store import store_event, store_report
from tests.support.ui import PASSWORD, add_user
from tests.support.vtn_harness import VtnUnderTest
from vtn.domain import VenRecord
from vtn.store import repository as repo
from vtn.store.database import upgrade
from vtn.store.worker import StoreWorker

T0 = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)


def _answer(event_id: str, opt_type: str) -> m.EventResponse:
    return m.EventResponse(200, "OK", "req-1", event_id, 0, opt_type)


async def test_a_ven_that_answered_counts_as_delivered_before_its_delivery_is_written(vtn_sqlite: VtnUnderTest) -> None:
    store = vtn_sqlite.admin_store
    store_event(store, "evt-1", T0, [7.0], T0 - timedelta(hours=1))
    for n in (1, 2, 3):
        store.call_sync(repo.save_ven, VenRecord(f"ven-{n}", f"site-0{n}", f"reg-{n}"), T0, True)
    store.call_sync(repo.record_deliveries, [("ven-1", "evt-1", 0, T0), ("ven-3", "evt-1", 0, T0)])
    # ven-2's answer is stored, its delivery still in the VTN's buffer
    store.call_sync(repo.record_event_responses, "ven-1", [_answer("evt-1", "optIn")], T0)
    store.call_sync(repo.record_event_responses, "ven-2", [_answer("evt-1", "optOut")], T0)
    await add_user(store, "demo", "viewer")
    vtn = VtnApi(vtn_sqlite.base_url, "demo", PASSWORD)
    try:
        found = await read_outcome(vtn, "evt-1")
        with pytest.raises(LookupError):
            await read_outcome(vtn, "no-such-event")
    finally:
        await vtn.close()
    assert found.delivered == {"ven-1": "site-01", "ven-2": "site-02", "ven-3": "site-03"}
    assert found.opts == {"ven-1": "optIn", "ven-2": "optOut"} and found.opted_in == ["ven-1"]
    stored, _closed = store.call_sync(repo.load_event, "evt-1")
    assert found.status == stored.event.status and found.reported() == set()
    # the VTN lists every site the event reached, each with no data yet (no meter data, no report)
    assert sorted(site["ven_id"] for site in found.curtailment["sites"]) == ["ven-1", "ven-3"]
    assert {site["delivery"] for site in found.curtailment["sites"]} == {"no data"}


@pytest.mark.external  # `cariflex reports curtailment`
async def test_the_demo_prints_the_table_the_cli_prints_and_logs_in_again_when_its_session_expires(
    vtn_sqlite: VtnUnderTest,
) -> None:
    store = vtn_sqlite.admin_store
    store_event(store, "evt-1", T0, [7.0], T0 - timedelta(hours=1))
    store_report(store, "evt-1", "ven-1", "site-01", T0, [(11.0, 7.0)])
    await add_user(store, "demo", "viewer")
    vtn = VtnApi(vtn_sqlite.base_url, "demo", PASSWORD)
    try:
        found = await read_outcome(vtn, "evt-1")
        assert [v["ven_name"] for v in await vtn.vens()] == ["site-01"]
        later = vtn_sqlite.ctx.now() + vtn_sqlite.ctx.config.ui.session_lifetime + timedelta(seconds=1)
        vtn_sqlite.ctx.clock = lambda: later  # the VTN's clock, which its session check reads
        table = await vtn.curtailment_table("evt-1")
    finally:
        await vtn.close()
    assert found.reported() == {"ven-1"} and found.curtailment["sites"][0]["intervals"][0]["achieved_kw"] == 4.0
    cli = [str(Path(sys.executable).parent / "cariflex"), "reports", "curtailment", "evt-1", "--format", "table"]
    done = subprocess.run([*cli, "--db", vtn_sqlite.ctx.config.db_url], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert table == done.stdout.splitlines() and table[1].split()[:2] == ["site-01", "4.00"]


@pytest.mark.external  # `cariflex reports curtailment`
@pytest.mark.parametrize("inside", [True, False], ids=["store-under-the-current-folder", "elsewhere"])
def test_the_printed_command_line_reaches_the_demos_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, inside: bool) -> None:
    data = tmp_path / "var" / "demo"
    url = f"sqlite:///{data / 'vtn.db'}"
    upgrade(url)
    store = StoreWorker(url)
    store_event(store, "evt-1", T0, [7.0], T0 - timedelta(hours=1))
    store_report(store, "evt-1", "ven-1", "site-01", T0, [(11.0, 7.0)])
    store.close()
    here = tmp_path if inside else tmp_path / "elsewhere"
    here.mkdir(exist_ok=True)
    monkeypatch.chdir(here)
    line = on_store(url, "reports", "curtailment", "evt-1", "--format", "table")
    assert ("--db sqlite:///var/demo/vtn.db" in line) == inside
    done = subprocess.run(shlex.split(line), cwd=here, capture_output=True, text=True, timeout=120, env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1].split()[:2] == ["site-01", "4.00"]
