"""Settlement statements: lines under the program's rules (pure), issued once and fingerprinted, re-issued only with
a reason, served by the CLI and the operator UI — on both stores."""

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from cariflex.cli import main
from mapping.curtailment.settlement import (
    AS_ASKED,
    NO_DATA,
    OVER,
    UNDER,
    IntervalInput,
    ProgramRules,
    SiteEvent,
    StatementLine,
    content_hash,
    statement_line,
)
from tests.support.curtailment_store import store_curve, store_event, store_report
from tests.support.ui import add_user, login
from vtn.curtailment import statements
from vtn.curtailment.settings import Settlement
from vtn.store.curtailment_models import SettlementStatement
from vtn.store.worker import StoreWorker

T0 = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)


DEFAULT_RULES = ProgramRules()


def line(intervals: list[tuple[float | None, float | None]], rules: ProgramRules = DEFAULT_RULES) -> StatementLine:
    """A line from (requested kW, achieved kW) per interval; baseline 10 kW, measured baseline − achieved."""
    inputs = tuple(IntervalInput(r, 10.0, None if a is None else 10.0 - a, a) for r, a in intervals)
    return statement_line(SiteEvent("evt", "site", "rectangle", "final", 1.0, inputs), rules)


def test_delivery_is_capped_per_interval_and_a_gap_delivers_nothing():
    # asked 4 kW twice; achieved 6 then 2: capped 4 + 2 = 6 kW·(0.25 h) = 1.5 kWh of 2 asked → under (75 % < 90 %)
    found = line([(4.0, 6.0), (4.0, 2.0)])
    assert (found.requested_kwh, found.achieved_kwh, found.delivered_kwh, found.shortfall_kwh) == (2.0, 2.0, 1.5, 0.5)
    assert found.outcome == UNDER
    uncapped = line([(4.0, 6.0), (4.0, 2.0)], ProgramRules(cap_at_requested=False))
    assert (uncapped.delivered_kwh, uncapped.outcome) == (2.0, AS_ASKED)
    # a missing interval is counted: it delivers nothing and shows, it does not vanish from the ratio
    gap = line([(4.0, 4.0), (4.0, None)])
    assert (gap.missing_intervals, gap.delivered_kwh, gap.requested_kwh, gap.outcome) == (1, 1.0, 2.0, UNDER)
    assert line([(4.0, None)]).outcome == NO_DATA
    assert line([(4.0, 4.5)], ProgramRules(cap_at_requested=False, tolerance=0.05)).outcome == OVER
    assert line([(4.0, -3.0)]).delivered_kwh == 0.0  # a rebound is not a negative payment here: it delivers nothing


def test_the_fingerprint_is_canonical():
    assert content_hash({"b": 1, "a": [1.5, None]}) == content_hash({"a": [1.5, None], "b": 1})
    assert content_hash({"a": 1}) != content_hash({"a": 2})


@pytest.fixture
def store(db_store: StoreWorker) -> StoreWorker:
    return db_store


def test_issue_show_reissue_on_the_store(store, db_url, capsys):
    store_event(store, "evt-1", T0, [7.0, 7.0], T0 - timedelta(hours=2))
    store_report(store, "evt-1", "ven-1", "site-21", T0, [(11.0, 7.0), (11.0, 9.0)])
    assert main(["settlement", "issue", "--event", "evt-1", "--db", db_url]) == 0
    out = capsys.readouterr().out
    # asked 4 kW twice (baseline 11 − limit 7); achieved 4 then 2 → 1.5 of 2 kWh, under
    assert "1 lines, requested 2.000 kWh, delivered 1.500 kWh, shortfall 0.500 kWh" in out and "(final)" in out
    first = out.split()[1]
    assert main(["settlement", "issue", "--event", "evt-1", "--db", db_url]) == 2
    assert f"unchanged since {first}" in capsys.readouterr().err
    # the meter operator corrects the curve: the second interval drew 7.5 kW
    store_curve(store, "site-21", T0, 11.0, [7.0, 7.5], T0 + timedelta(days=1))
    assert main(["settlement", "issue", "--event", "evt-1", "--db", db_url]) == 2
    assert "say why it is re-issued" in capsys.readouterr().err
    assert main(["settlement", "issue", "--event", "evt-1", "--reason", "corrected load curve", "--db", db_url]) == 0
    out = capsys.readouterr().out
    second = out.split()[1]
    assert f"supersedes {first}" in out and "delivered 1.875 kWh" in out
    assert main(["settlement", "show", second, "--db", db_url]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["verified"] and document["supersedes"] == first and document["reason"] == "corrected load curve"
    (only,) = document["lines"]
    assert only["method"].startswith("x-of-y") and only["outcome"] == "as asked" and only["status"] == "final"
    assert main(["settlement", "show", second, "--format", "csv", "--db", db_url]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0].startswith("statement_id,content_hash,scope") and rows[-1].split(",")[5:7] == ["*", "total"]
    assert main(["settlement", "list", "--db", db_url]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3
    assert main(["settlement", "issue", "--program", "http://cariflex.mq/programs/test", "--db", db_url]) == 2
    assert "period: a program statement covers a period" in capsys.readouterr().err


def test_a_statement_whose_content_was_altered_says_so(store, db_url, capsys):
    store_event(store, "evt-1", T0, [7.0], T0 - timedelta(hours=2))
    store_report(store, "evt-1", "ven-1", "site-21", T0, [(11.0, 7.0)])
    assert main(["settlement", "issue", "--event", "evt-1", "--db", db_url]) == 0
    statement_id = capsys.readouterr().out.split()[1]

    def tamper(session):
        row = session.get(SettlementStatement, statement_id)
        row.content = {**row.content, "totals": {**row.content["totals"], "delivered_kwh": 99.0}}

    store.call_sync(tamper)
    assert main(["settlement", "show", statement_id, "--db", db_url]) == 3
    assert json.loads(capsys.readouterr().out)["verified"] is False


async def test_the_settlement_pages(vtn_sqlite):
    store = vtn_sqlite.admin_store
    await asyncio.to_thread(store_event, store, "evt-1", T0, [7.0], T0 - timedelta(hours=2))
    await asyncio.to_thread(store_report, store, "evt-1", "ven-1", "site-21", T0, [(11.0, 7.0)])
    issued = await store.call(statements.issue, Settlement(), "event", "evt-1", "olga", T0 + timedelta(hours=1))
    await add_user(store, "vic", "viewer")
    session = await login(vtn_sqlite.base_url, "vic")
    try:
        async with session.get(f"{vtn_sqlite.base_url}/ui/settlements") as page:
            listing = await page.text()
        async with session.get(f"{vtn_sqlite.base_url}/ui/settlements/{issued.statement_id}") as page:
            html = await page.text()
        async with session.get(f"{vtn_sqlite.base_url}/ui/settlements/{issued.statement_id}.csv") as page:
            csv_text = await page.text()
        async with session.get(f"{vtn_sqlite.base_url}/ui/settlements/no-such.json") as page:
            missing = page.status
        async with session.get(f"{vtn_sqlite.base_url}/ui/audit") as page:
            audit = await page.text()
    finally:
        await session.close()
    assert issued.statement_id in listing and "1.000 / 1.000" in listing
    assert issued.content_hash in html and "(verified)" in html and "as asked" in html
    assert csv_text.startswith("statement_id,") and missing == 404 and "settlement issue" in audit
