"""The delivery verdict the VTN serves per site and in total (vtn.curtailment.query), and the intervals an
event created mid-window gave its sites no notice of: flagged `before_notice`, their request counted from
the event's creation, and those over before it left out of the ratio and the verdict."""

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from mapping.grid import QUARTER as Q
from tests.support.curtailment_store import store_event, store_report
from vtn.curtailment import query
from vtn.store.database import upgrade
from vtn.store.worker import StoreWorker

T0 = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)
#: baseline 11 kW; limit 7 kW → 4 kW asked per interval. The site did nothing in the first interval (it had not
#: been told), then achieved 2 and 4 kW
ROWS = [(11.0, 11.0), (11.0, 9.0), (11.0, 7.0)]


@pytest.fixture
def store(sqlite_url: str) -> Iterator[StoreWorker]:
    upgrade(sqlite_url)
    worker = StoreWorker(sqlite_url)
    yield worker
    worker.close()


def _curtailment(store: StoreWorker, created: datetime) -> query.EventCurtailment:
    store_event(store, "evt-1", T0, [7.0, 7.0, 7.0], created)
    store_report(store, "evt-1", "ven-1", "site-21", T0, ROWS)
    return store.call_sync(query.event_curtailment, "evt-1")


def test_an_event_created_mid_window_counts_from_its_creation(store):
    """Created 5 minutes into the second interval: the first is over before notice (shown, not counted, nothing
    asked), the second is asked 4 kW × 10/15, the third 4 kW. Delivered (2 + 4) / (8/3 + 4) = 90 %: met. Counting
    every interval as asked would say (0 + 2 + 4) / 12 = 50 %: under."""
    found = _curtailment(store, created=T0 + Q + timedelta(minutes=5))
    (site,) = found.sites
    got = [(i.requested_kw, i.achieved_kw, i.quality, i.counted) for i in site.intervals]
    assert got == [
        (pytest.approx(0.0), pytest.approx(0.0), "before_notice", False),
        (pytest.approx(8 / 3), pytest.approx(2.0), "before_notice", True),
        (pytest.approx(4.0), pytest.approx(4.0), "good", True),
    ]
    assert site.delivery.delivery == "met" and site.delivery.ratio == pytest.approx(0.9) and site.ratio == site.delivery.ratio
    assert [(i.quality, i.counted) for i in found.total] == [("before_notice", False), ("before_notice", True), ("good", True)]
    assert found.delivery.delivery == "met" and found.ratio == pytest.approx(0.9)


def test_an_event_told_in_advance_counts_every_interval(store):
    found = _curtailment(store, created=T0 - timedelta(hours=1))
    (site,) = found.sites
    assert [(i.requested_kw, i.quality, i.counted) for i in site.intervals] == [(pytest.approx(4.0), "good", True)] * 3
    assert site.delivery.delivery == "under" and site.delivery.ratio == pytest.approx(0.5)


def test_an_event_recorded_after_it_ended_is_taken_as_recorded(store):
    found = _curtailment(store, created=T0 + 4 * Q)
    assert [(i.quality, i.counted) for i in found.sites[0].intervals] == [("good", True)] * 3
    assert found.delivery.ratio == pytest.approx(0.5)


def test_json_and_csv_carry_the_verdict_after_the_columns_they_had(store):
    found = _curtailment(store, created=T0 + Q + timedelta(minutes=5))
    body = query.as_json(found)
    assert body["delivery"] == "met" and body["sites"][0]["delivery"] == "met"
    assert [i["counted"] for i in body["sites"][0]["intervals"]] == [False, True, True]
    out = io.StringIO()
    csv.writer(out).writerows([query.CSV_COLUMNS, *query.as_rows(found)])
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert query.CSV_COLUMNS[:10] == (
        "event_id",
        "ven_id",
        "ven_name",
        "start",
        "end",
        "requested_kw",
        "baseline_kw",
        "measured_kw",
        "achieved_kw",
        "quality",
    )
    assert [(r["ven_id"], r["counted"], r["delivery"], r["ratio"]) for r in rows] == [
        ("ven-1", "false", "met", "0.9"),
        ("ven-1", "true", "met", "0.9"),
        ("ven-1", "true", "met", "0.9"),
        ("*", "false", "met", "0.9"),
        ("*", "true", "met", "0.9"),
        ("*", "true", "met", "0.9"),
    ]
