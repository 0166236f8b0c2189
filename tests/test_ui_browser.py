"""The operator UI in a real browser: Debian's chromium driven by playwright (no browser download).

Logs in, filters the event log, opens an event and reads its curtailment chart and per-site verdicts,
cancels an event and sees a VEN receive the cancellation, exports the CSV and compares it with the
store, checks the map without tiles, times shown in Martinique time with UTC on hover, VENs in
site-name order, report values rounded with their unit. Screenshots of every page go to
var/screenshots/ (test artifacts).
"""

import asyncio
import csv
import io
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from mapping.curtailment import report as wire
from mapping.grid import ceil_slot, floor_slot
from mapping.oadr import model as m
from tests.support.reports import usage_metadata
from tests.support.ui import PASSWORD, add_user
from tests.support.vtn_harness import config_for_tests, running_vtn
from vtn.admin import events as event_admin
from vtn.store import curtailment_repository as curtailed
from vtn.store import report_repository as reports
from vtn.store import repository as repo
from vtn.store import ui_repository as users

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "var" / "screenshots"
OTHER_PROGRAM = "http://cariflex.mq/programs/other"
MARTINIQUE = ZoneInfo("America/Martinique")  # the default [ui] timezone: UTC−4, AST

async_playwright = pytest.importorskip("playwright.async_api").async_playwright
pytestmark = [
    pytest.mark.skipif(
        shutil.which(CHROMIUM) is None, reason="Debian's chromium is missing (make test installs it: scripts/ensure-browser.sh)"
    ),
    pytest.mark.external,  # headless chromium
]


def _curtailment_points(event: m.Event) -> list[dict]:
    """What the site's VEN reported for the event (x-ACHIEVED_CURTAILMENT): baseline 9.25 and 9 kW, measured
    5.5 kW then nothing (the meter was silent), achieved 3.75 kW then nothing."""
    q, first = timedelta(minutes=15), floor_slot(event.dtstart)
    values = {
        (wire.BASELINE, 0): (9.25, wire.GOOD),
        (wire.MEASURED, 0): (5.5, wire.GOOD),
        (wire.ACHIEVED, 0): (3.75, wire.GOOD),
        (wire.BASELINE, 1): (9.0, wire.GOOD),
        (wire.MEASURED, 1): (0.0, wire.NO_VALUE),
        (wire.ACHIEVED, 1): (0.0, wire.NO_VALUE),
    }
    return [
        {"report_request_id": "rr-curtailment", "report_specifier_id": "site-01:x-ACHIEVED_CURTAILMENT",
         "report_name": wire.REPORT_NAME, "r_id": r_id, "reading_type": wire.READING_TYPES[r_id], "dtstart": first + k * q,
         "duration_s": 900.0, "value": value if wire.has_value(quality) else None, "status": None, "confidence": None,
         "accuracy": None, "data_quality": quality}
        for (r_id, k), (value, quality) in values.items()
    ]  # fmt: skip


async def _poll_until(vtn, ven_id: str, wanted, what: str) -> m.Message:
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        reply = await vtn.client.poll(ven_id)
        if wanted(reply):
            return reply
        assert asyncio.get_running_loop().time() < deadline, f"the VEN never received {what}"
        await asyncio.sleep(0.2)


async def test_operator_workflow_in_chromium(sqlite_url):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    async with running_vtn(config_for_tests(sqlite_url)) as vtn:
        await add_user(vtn.admin_store, "operator1", "operator")
        reg = await vtn.client.register("site-01")  # a site of config/sites.toml: it shows on the map
        await vtn.client.poll(reg.ven_id)
        for name in ("omega", "alpha"):  # their venIDs are random; the VEN list goes by name
            await vtn.client.register(name)
        on_the_grid = ceil_slot(vtn.ctx.now()) + timedelta(minutes=15) - vtn.ctx.now()
        charted = await vtn.create_event(
            values=(6.0, 6.0),
            signal=("x-IMPORT_CAPACITY_LIMIT", "setpoint"),
            target=m.Target(ven_ids=(reg.ven_id,)),
            start_in=on_the_grid,
        )
        to_cancel = await vtn.create_event(values=(2.0,), start_in=timedelta(hours=3), priority=2)
        now = vtn.ctx.now()
        signal = event_admin.uniform_signal("SIMPLE", "level", [1.0], timedelta(minutes=30), None)
        at_22z = (now + timedelta(days=1)).replace(hour=22, minute=0, second=0, microsecond=0)  # 18:00 in Martinique
        elsewhere = event_admin.draft_event(
            market_context=OTHER_PROGRAM,
            dtstart=at_22z,
            signals=(signal,),
            now=now,
            near_window=timedelta(hours=1),
            target=m.Target(ven_ids=("ven-somewhere-else",)),
        )
        await vtn.admin(event_admin.create_event, elsewhere, "aggregator", now)
        distributed = await vtn.client.poll(reg.ven_id)
        assert isinstance(distributed, m.DistributeEvent) and len(distributed.events) == 2
        await vtn.client.ack(reg.ven_id, distributed.events, "optIn")
        await vtn.process.sync.flush_deliveries()
        usage = [
            {"report_request_id": "rr-demo", "report_specifier_id": "TELEMETRY_USAGE", "report_name": "TELEMETRY_USAGE",
             "r_id": "site-power", "reading_type": "Direct Read", "dtstart": now - timedelta(minutes=4 - k), "duration_s": 60.0,
             "value": value, "status": None, "confidence": None, "accuracy": None, "data_quality": None}
            for k, value in enumerate((1.5, 1.25, 1.0, 9.634816666666667))
        ]  # fmt: skip
        await vtn.admin_store.call(reports.store_points, reg.ven_id, usage, now)
        # the VEN registered site-power in W at scale k: the page says kW
        await vtn.admin_store.call(reports.replace_descriptions, reg.ven_id, [usage_metadata()], now)
        # the VEN's achieved-curtailment report for the charted event, as the VTN stores it
        await vtn.admin_store.call(reports.store_points, reg.ven_id, _curtailment_points(charted), now)
        await vtn.admin_store.call(curtailed.record_request, charted.event_id, reg.ven_id, "rr-curtailment", now)

        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            context = await browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
            # no internet here (and none needed): tile requests fail, the map must still work
            await context.route("https://tile.openstreetmap.org/**", lambda route: route.abort())

            async def late(route: Any) -> None:  # the tiles fail before the map's script runs (a busy machine did so)
                await asyncio.sleep(0.5)
                await route.continue_()

            await context.route("**/ui/static/map.js", late)
            page = await context.new_page()
            base = vtn.base_url

            # anonymous → login page
            await page.goto(f"{base}/ui/events")
            assert "/ui/login" in page.url
            await page.fill("input[name=username]", "operator1")
            await page.fill("input[name=password]", "not the password")
            await page.click("button[type=submit]")
            assert await page.text_content("#login-error") == "Wrong user name or password."
            await page.screenshot(path=SCREENSHOTS / "login.png")
            await page.fill("input[name=username]", "operator1")
            await page.fill("input[name=password]", PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_selector("#event-log")
            assert await page.locator("#event-log tbody tr[data-event]").count() == 3
            # times in Martinique time, UTC on hover: the event at 22:00Z starts at 18:00 AST
            window = page.locator(f'#event-log tr[data-event="{elsewhere.event_id}"] time')
            assert (await window.text_content()) == f"{at_22z:%Y-%m-%d} 18:00 → 18:30 AST (PT30M)"
            assert (await window.get_attribute("title")) == f"{at_22z:%Y-%m-%d} 22:00 → 22:30 UTC (PT30M)"
            assert "America/Martinique" in await page.text_content("#filters")  # the day filters say their zone
            await page.screenshot(path=SCREENSHOTS / "event-log.png", full_page=True)

            # filter: the test program, then one site
            await page.select_option("select[name=program]", "test")
            await page.click("#apply")
            await page.wait_for_url("**program=test**")
            shown = await page.locator("#event-log tbody tr[data-event]").evaluate_all("rows => rows.map(r => r.dataset.event)")
            assert sorted(shown) == sorted([charted.event_id, to_cancel.event_id])
            await page.fill("input[name=site]", "site-01")
            await page.select_option("select[name=program]", "")
            await page.click("#apply")
            await page.wait_for_url("**site=site-01**")
            row = page.locator(f'#event-log tr[data-event="{charted.event_id}"]')
            assert await row.count() == 1
            cells = await row.locator("td").all_text_contents()
            assert cells[-3:] == ["1", "1", "0"]  # delivered to one VEN, one optIn, no optOut

            # detail with the chart and its numbers
            await row.locator("a").click()
            await page.wait_for_selector("#event-id")
            assert await page.text_content("#event-id") == charted.event_id
            total = page.locator('section[data-scope="total"]')
            assert await total.locator("svg.chart rect.achieved").count() == 1  # the missing interval has no bar
            assert await total.locator("td.achieved").all_text_contents() == ["3.75", "—"]
            assert await total.locator("td.baseline").all_text_contents() == ["9.25", "9.00"]
            # requested = baseline − the 6 kW limit; ratio = 3.75 / 3.25 over the interval with both values
            assert await total.locator("td.requested").all_text_contents() == ["3.25", "3.00"]
            assert (await page.text_content("#ratio")).strip() == "115 %"
            # delivered against requested per site and in total: 115 % is within the met band
            for scope in ("total", reg.ven_id):
                row = page.locator(f'#performance tr[data-scope="{scope}"]')
                assert await row.locator("td.delivered").text_content() == "115 %"
                assert await row.locator("td.verdict").text_content() == "met"
            first = total.locator("table.numbers tbody tr").first.locator("time").first
            local_start = charted.dtstart.astimezone(MARTINIQUE)
            assert await first.text_content() == f"{local_start:%Y-%m-%d %H:%M} AST"
            assert await first.get_attribute("title") == f"{charted.dtstart:%Y-%m-%d %H:%M} UTC"
            assert await total.locator("svg.chart text.x-tick").count() == 3  # two intervals: both starts and the end
            timeline = await page.locator("#timeline li").evaluate_all("items => items.map(i => i.className)")
            assert timeline[:3] == ["created", "delivered", "optIn"]
            assert await page.locator(f'#deliveries tr[data-ven="{reg.ven_id}"] td.opt').text_content() == "optIn"
            await page.screenshot(path=SCREENSHOTS / "event-detail.png", full_page=True)

            # an event with nothing reported yet, then cancel it with confirmation
            await page.goto(f"{base}/ui/events/{to_cancel.event_id}")
            assert (await page.text_content("#no-curtailment")).strip() == "No curtailment reported yet."
            await page.click("#cancel-event")
            await page.wait_for_selector("#confirm")
            await page.screenshot(path=SCREENSHOTS / "cancel-confirm.png")
            await page.fill("input[name=reason]", "no longer needed")
            await page.click("#confirm")
            await page.wait_for_selector("#notice")
            assert await page.text_content("#event-status") == "cancelled"
            cancelled = await _poll_until(
                vtn,
                reg.ven_id,
                lambda r: (
                    isinstance(r, m.DistributeEvent)
                    and any(e.event_id == to_cancel.event_id and e.status == "cancelled" for e in r.events)
                ),
                "the cancellation",
            )
            assert next(e for e in cancelled.events if e.event_id == to_cancel.event_id).modification_number == 1

            # CSV export of the whole log matches the store
            await page.goto(f"{base}/ui/events")
            async with page.expect_download() as download_info:
                await page.click("#csv")
            download = await download_info.value
            exported = list(csv.DictReader(io.StringIO(Path(await download.path()).read_text())))
            stored = await vtn.admin_store.call(repo.list_events, 100)
            assert {(r["event_id"], r["status"], int(r["modification_number"])) for r in exported} == {
                (live.event.event_id, live.event.status, live.event.modification_number) for live, _ in stored
            }

            # VENs and the map without tiles, reports, audit
            await page.goto(f"{base}/ui/vens")
            await page.wait_for_selector("#tiles-note:not([hidden])")  # tiles failed: outline and sites remain
            assert await page.locator("#site-map #coast").count() == 1
            assert await page.locator('#site-map circle[data-site="site-01"].online').count() == 1
            assert await page.locator("#site-map circle.site").count() == 40
            listed = await page.locator("#ven-list tbody td.site").all_text_contents()
            assert listed == ["alpha", "omega", "site-01"]  # by site name, whatever the venIDs
            await page.screenshot(path=SCREENSHOTS / "vens.png", full_page=True)
            await page.goto(f"{base}/ui/vens/{reg.ven_id}")
            assert await page.text_content("#site-commune") == "Fort-de-France"
            assert await page.text_content("#site-contract") == "9 kVA"
            assert await page.locator(f'#answers tr[data-event="{charted.event_id}"] td.opt').text_content() == "optIn"
            await page.screenshot(path=SCREENSHOTS / "ven.png", full_page=True)
            await page.goto(f"{base}/ui/reports?ven=site-01&report=TELEMETRY_USAGE")  # a site name, not a venID
            assert await page.locator("#points tbody tr").count() == 4
            assert await page.locator("#points td.value").all_text_contents() == ["1.50", "1.25", "1.00", "9.63"]
            assert await page.locator("#points td.unit").all_text_contents() == ["kW"] * 4
            assert await page.locator("#points td.value").last.get_attribute("title") == "9.634816666666667"
            hint = datetime.strptime(await page.get_attribute("input[name=since]", "placeholder"), "%Y-%m-%d %H:%M")
            expected = (now - timedelta(hours=24)).astimezone(MARTINIQUE).replace(tzinfo=None)
            assert abs(hint - expected) < timedelta(minutes=2)  # a day back from now, in local time
            async with page.expect_download() as download_info:
                await page.click("#reports-csv")
            telemetry = list(csv.DictReader(io.StringIO(Path(await (await download_info.value).path()).read_text())))
            assert [float(r["value"]) for r in telemetry] == [1.5, 1.25, 1.0, 9.634816666666667]  # exact in the CSV
            assert telemetry[0]["dtstart"].endswith("Z")  # and in UTC
            await page.screenshot(path=SCREENSHOTS / "reports.png", full_page=True)
            await page.goto(f"{base}/ui/audit")
            actions = await page.locator("#audit td.action").all_text_contents()
            assert actions[0] == "cancel_event" and set(actions[1:]) == {"create_event"}  # newest first
            await page.screenshot(path=SCREENSHOTS / "audit.png", full_page=True)
            await browser.close()
        entries = await vtn.admin_store.call(users.audit_log)
        cancels = [(a["username"], a["target"]) for a in entries if a["action"] == "cancel_event"]
        assert cancels == [("operator1", to_cancel.event_id)]
        assert {a["username"] for a in entries if a["action"] == "create_event"} == {"test", "aggregator"}
