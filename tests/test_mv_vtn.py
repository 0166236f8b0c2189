"""The VTN settles on its own meter data (issue 18): imported load curves and the VENs' TELEMETRY_USAGE, by the
program's named method, with the VEN's reported baseline kept as its claim — on both stores."""

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from cariflex.cli import main
from mapping.curtailment import ADDITIVE, Adjustment, BaselineConfig
from mapping.curtailment.meter_file import parse_load_curves
from mapping.grid import QUARTER
from tests.support.curtailment_store import store_event, store_report
from tests.support.reports import usage_metadata
from tests.support.ui import add_user, hidden, login
from vtn.curtailment import query
from vtn.curtailment.meter_data import telemetry_steps
from vtn.curtailment.settings import CurtailmentConfig, Settlement
from vtn.store import meter_repository as meters
from vtn.store import report_repository as reports
from vtn.store.worker import StoreWorker

T0 = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)  # Thursday 18:00 in Martinique
CREATED = T0 - timedelta(hours=2)


@pytest.fixture
def store(db_store: StoreWorker) -> StoreWorker:
    return db_store


def _claim_inflated(store: StoreWorker) -> None:
    """An event of 7 kW limits; the VEN claims a 20 kW baseline; its meter curve says 11 kW before, 7 during."""
    store_event(store, "evt-1", T0, [7.0, 7.0], CREATED)
    store_report(store, "evt-1", "ven-1", "site-21", T0, [(11.0, 7.0), (11.0, 7.0)], claimed=[20.0, 20.0])


def test_the_vtn_baseline_comes_from_its_meter_data_and_the_vens_claim_is_only_shown(store):
    _claim_inflated(store)
    found = store.call_sync(query.event_curtailment, "evt-1")
    (site,) = found.sites
    # x-of-y high 4 of 5 with PJM's additive adjustment on the curve: 11 kW flat → 11; the VEN said 20
    assert [(i.baseline_kw, i.ven_baseline_kw, i.measured_kw, i.achieved_kw) for i in site.intervals] == [
        (11.0, 20.0, 7.0, 4.0)
    ] * 2
    assert [i.requested_kw for i in site.intervals] == [4.0, 4.0]  # baseline − limit, from the VTN's baseline, not 20 − 7
    assert site.sources == ("meter file site-21",) and site.coverage == 1.0 and site.final
    assert found.method.startswith("x-of-y: high 4 of 5 weekdays")
    body = query.as_json(found)
    assert body["method"] == found.method and body["sites"][0]["final"] is True
    assert body["sites"][0]["intervals"][0]["ven_baseline_kw"] == 20.0


def test_the_program_names_the_method(store):
    _claim_inflated(store)
    rectangle = BaselineConfig("rectangle", minutes=60)
    config = CurtailmentConfig(programs={"http://cariflex.mq/programs/test": rectangle})
    found = store.call_sync(query.event_curtailment, "evt-1", None, Settlement(config))
    assert found.method.startswith("rectangle: mean of 60 min before the notice")
    assert [i.baseline_kw for i in found.sites[0].intervals] == [11.0, 11.0]


def test_a_site_without_meter_data_at_the_vtn_shows_its_claim_flagged_and_never_final(store):
    _claim_inflated(store)
    elsewhere = Settlement(delivery_points={"site-21": "PDL-with-no-curve"})  # its curve is filed under another point
    found = store.call_sync(query.event_curtailment, "evt-1", None, elsewhere)
    (site,) = found.sites
    assert [(i.baseline_kw, i.quality) for i in site.intervals] == [(20.0, "claimed")] * 2
    assert site.sources == ("VEN claim",) and not site.final and site.coverage == 0.0


def test_a_method_short_of_history_gives_the_vtns_figures_provisional(store):
    _claim_inflated(store)
    ten_of_ten = BaselineConfig("x-of-y", x=10, y=10, lookback_days=12, adjustment=Adjustment(ADDITIVE))
    config = CurtailmentConfig(baseline=ten_of_ten)  # 12 days back hold only 8 weekdays: the method is not met
    found = store.call_sync(query.event_curtailment, "evt-1", None, Settlement(config))
    (site,) = found.sites
    assert [i.baseline_kw for i in site.intervals] == [11.0, 11.0]  # the VTN's own, from the 8 days it has
    assert all("insufficient_history" in i.quality for i in site.intervals)
    assert site.sources == ("meter file site-21",) and site.coverage == 1.0 and not site.final


def test_telemetry_usage_is_meter_data_where_no_curve_was_imported(store):
    now = T0 + timedelta(hours=1)
    store.call_sync(reports.replace_descriptions, "ven-9", [usage_metadata()], now)
    points = [
        {
            "report_request_id": "rr-t",
            "report_specifier_id": "usage-spec",
            "report_name": "TELEMETRY_USAGE",
            "r_id": "site-power",
            "reading_type": "Direct Read",
            "dtstart": T0 + k * timedelta(minutes=1),
            "duration_s": 60.0,
            "value": float(k),
            "status": None,
            "confidence": None,
            "accuracy": None,
            "data_quality": None,
        }
        for k in range(15)
    ]
    store.call_sync(reports.store_points, "ven-9", points, now)
    steps = store.call_sync(telemetry_steps, "ven-9", T0, T0 + QUARTER)
    assert [(s.start, s.end, s.kw) for s in steps[:2]] == [
        (T0, T0 + timedelta(minutes=1), 0.0),
        (T0 + timedelta(minutes=1), T0 + timedelta(minutes=2), 1.0),
    ]
    assert len(steps) == 15


def test_meter_import_by_cli_corrects_and_refuses_naming_the_line(store, db_url, tmp_path: Path, capsys):
    good = tmp_path / "curve.csv"
    good.write_text(
        "delivery_point,start,step,power_kw\nPDL-1,2026-11-26T18:00:00-04:00,PT30M,3.5\nPDL-1,2026-11-26T18:30:00-04:00,PT30M,4\n"
    )
    assert main(["meter", "import", str(good), "--db", db_url]) == 0
    assert "imported 2 steps for 1 delivery points" in capsys.readouterr().out
    good.write_text("delivery_point,start,step,power_kw\nPDL-1,2026-11-26T18:00:00-04:00,PT30M,3.0\n")
    assert main(["meter", "import", str(good), "--db", db_url]) == 0
    assert "0 added, 1 corrected, 0 unchanged" in capsys.readouterr().out
    assert [s.kw for s in store.call_sync(meters.steps_of, "PDL-1", T0, T0 + timedelta(hours=1))] == [3.0, 4.0]
    bad = tmp_path / "bad.csv"
    bad.write_text("delivery_point,start,step,power_kw\nPDL-1,2026-11-26 19:00,PT30M,1\n")
    assert main(["meter", "import", str(bad), "--db", db_url]) == 2
    assert "line 2, start" in capsys.readouterr().err
    assert main(["meter", "list", "--db", db_url]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == 3 and listed[1].split(",")[1:3] == ["cli", "file curve.csv"]


def test_an_enedis_style_curve_lands_under_its_prm():
    text = "Identifiant PRM;Horodate;Valeur;Pas\n30001234567890;2026-11-26T18:30:00-04:00;2500;PT30M\n"
    [(point, steps)] = parse_load_curves(text).items()
    assert point == "30001234567890" and steps[0].start == T0 and steps[0].kw == 2.5


async def test_the_meter_page_imports_for_operators_only_and_names_the_bad_line(vtn_sqlite):
    store = vtn_sqlite.admin_store
    await add_user(store, "olga", "operator")
    await add_user(store, "vic", "viewer")
    curve = "delivery_point,start,step,power_kw\nPDL-7,2026-11-26T18:00:00-04:00,PT10M,2.5\n"

    async def upload(user: str, text: str) -> tuple[int, str]:
        session = await login(vtn_sqlite.base_url, user)
        try:
            async with session.get(f"{vtn_sqlite.base_url}/ui/meter") as page:
                html = await page.text()
            form = aiohttp.FormData()
            form.add_field("csrf", hidden(html, "csrf") if 'name="csrf"' in html else "none")
            form.add_field("file", text.encode(), filename="curve.csv", content_type="text/csv")
            async with session.post(f"{vtn_sqlite.base_url}/ui/meter", data=form, allow_redirects=False) as reply:
                return reply.status, reply.headers.get("Location", "") + await reply.text()
        finally:
            await session.close()

    status, _ = await upload("vic", curve)
    assert status == 403  # a viewer sees the imports, imports nothing
    status, answer = await upload("olga", curve.replace("2.5", "lots"))
    assert status == 400 and "line 2, power_kw: 'lots' is not a number" in answer
    status, answer = await upload("olga", curve)
    assert status == 303 and "1+steps+added" in answer
    assert [s.kw for s in await store.call(meters.steps_of, "PDL-7", T0, T0 + QUARTER)] == [2.5]
    session = await login(vtn_sqlite.base_url, "vic")
    try:
        async with session.get(f"{vtn_sqlite.base_url}/ui/meter") as page:
            html = await page.text()
        async with session.get(f"{vtn_sqlite.base_url}/ui/audit") as page:
            audit = await page.text()
    finally:
        await session.close()
    assert "upload curve.csv" in html and "meter import" in audit and 'name="file"' not in html


async def test_the_event_page_names_the_method_the_data_and_the_claim(vtn_sqlite):
    store = vtn_sqlite.admin_store
    await asyncio.to_thread(_claim_inflated, store)
    await add_user(store, "vic", "viewer")
    session = await login(vtn_sqlite.base_url, "vic")
    try:
        async with session.get(f"{vtn_sqlite.base_url}/ui/events/evt-1") as page:
            html = await page.text()
    finally:
        await session.close()
    assert 'id="baseline-method">x-of-y: high 4 of 5 weekdays' in html
    assert ">meter file site-21<" in html and ">final<" in html and ">100 %<" in html
    assert '<td class="claimed">20.00</td>' in html and '<td class="baseline">11.00</td>' in html
