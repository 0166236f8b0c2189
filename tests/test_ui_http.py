"""The operator UI over real HTTP on both stores: login, sessions, CSRF, roles, event-log filters and
keyset pages, CSV exports against the store, audited actions reaching the VEN, `cariflex user add`."""

import asyncio
import csv
import io
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from mapping.oadr import model as m
from mapping.oadr import report_model as r
from tests.support.reports import register_reports, usage_metadata
from tests.support.ui import PASSWORD, add_user, hidden, login
from tests.support.vtn_harness import PROGRAM
from vtn.admin import events as event_admin
from vtn.store import report_repository as reports
from vtn.store import repository as repo
from vtn.store import ui_repository as users
from vtn.store import ven_overview
from vtn.store.worker import StoreWorker
from vtn.ui.auth import check_password

OTHER_PROGRAM = "http://cariflex.mq/programs/other"
MARTINIQUE = ZoneInfo("America/Martinique")  # the default [ui] timezone


async def _event_elsewhere(vtn, start_in: timedelta, status_values=(1.0,)) -> m.Event:
    now = vtn.ctx.now()
    signal = event_admin.uniform_signal("SIMPLE", "level", list(status_values), timedelta(minutes=15), None)
    event = event_admin.draft_event(
        market_context=OTHER_PROGRAM, dtstart=now + start_in, signals=(signal,), now=now, near_window=timedelta(hours=1)
    )
    await vtn.admin(event_admin.create_event, event, "dso-api", now)
    return event


async def _page(session: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with session.get(url, allow_redirects=False) as reply:
        return reply.status, await reply.text()


async def test_nothing_but_login_and_static_files_is_reachable_anonymously(vtn):
    async with aiohttp.ClientSession() as anonymous:
        pages = ("/ui/", "/ui/events", "/ui/events.csv", "/ui/events/x", "/ui/events/x/cancel", "/ui/vens", "/ui/vens/x",
                 "/ui/vens/x/request-report", "/ui/vens/x/reregister", "/ui/reports", "/ui/reports.csv", "/ui/audit",
                 "/ui/vens.json", "/ui/events/x/deliveries.json", "/ui/events/x/curtailment.txt")  # fmt: skip
        for path in pages:
            async with anonymous.get(vtn.base_url + path, allow_redirects=False) as reply:
                assert reply.status == 303 and reply.headers["Location"].startswith("/ui/login"), path
        # after login the operator lands on the page asked for, query string included
        async with anonymous.get(f"{vtn.base_url}/ui/events?status=far&program=test", allow_redirects=False) as reply:
            location = urlsplit(reply.headers["Location"])
            assert location.path == "/ui/login" and parse_qs(location.query) == {"next": ["/ui/events?status=far&program=test"]}
        async with anonymous.post(f"{vtn.base_url}/ui/events/x/cancel", data={"csrf": "x"}) as reply:
            assert reply.status == 401
        for path in ("/ui/login", "/ui/static/style.css", "/ui/static/map.js"):
            async with anonymous.get(vtn.base_url + path) as reply:
                assert reply.status == 200, path
    # the OpenADR endpoint is as it was: no login, XML in and out
    reg = await vtn.client.register("site-anonymous-check")
    assert reg.ven_id


async def test_login_checks_the_password_and_logout_ends_the_session(vtn):
    await add_user(vtn.admin_store, "alice", "viewer")
    stored = await vtn.admin_store.call(users.find_user, "alice")
    assert stored[0].startswith("$argon2id$") and PASSWORD not in stored[0]
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        async with session.get(f"{vtn.base_url}/ui/login") as page:
            csrf = hidden(await page.text(), "csrf")
        bad = {"csrf": csrf, "username": "alice", "password": "wrong password", "next": "/ui/events"}
        async with session.post(f"{vtn.base_url}/ui/login", data=bad, allow_redirects=False) as reply:
            assert reply.status == 401 and "Wrong user name or password" in await reply.text()
        assert (await _page(session, f"{vtn.base_url}/ui/events"))[0] == 303
        # a login form posted without the cookie's token (another site's form) is refused
        session.cookie_jar.clear()
        forged = {"csrf": csrf, "username": "alice", "password": PASSWORD}
        async with session.post(f"{vtn.base_url}/ui/login", data=forged, allow_redirects=False) as reply:
            assert reply.status == 403 and "csrf" in await reply.text()
    session = await login(vtn.base_url, "alice")
    try:
        status, html = await _page(session, f"{vtn.base_url}/ui/events")
        assert status == 200 and "alice (viewer)" in html
        async with session.post(f"{vtn.base_url}/ui/logout", data={"csrf": hidden(html, "csrf")}, allow_redirects=False) as reply:
            assert reply.status == 303
        assert (await _page(session, f"{vtn.base_url}/ui/events"))[0] == 303
    finally:
        await session.close()


async def test_failed_logins_pause_the_address_and_odd_names_are_just_wrong(vtn):
    await add_user(vtn.admin_store, "bob", "viewer")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        async with session.get(f"{vtn.base_url}/ui/login") as page:
            csrf = hidden(await page.text(), "csrf")
        statuses = []
        nul = {"csrf": csrf, "username": "a\x00b", "password": "x", "next": "/ui/events"}
        async with session.post(f"{vtn.base_url}/ui/login", data=nul, allow_redirects=False) as reply:
            assert reply.status == 400 and "username: contains a NUL" in await reply.text()
        # failures count per user name and address: the made-up name's does not count against bob's five
        for username in ("x" * 500, "bob", "bob", "bob", "bob", "bob", "bob"):
            form = {"csrf": csrf, "username": username, "password": "wrong password", "next": "/ui/events"}
            async with session.post(f"{vtn.base_url}/ui/login", data=form, allow_redirects=False) as reply:
                statuses.append(reply.status)
                text = await reply.text()
                csrf = hidden(text, "csrf")  # every answer is a fresh login form
        assert statuses == [401, 401, 401, 401, 401, 401, 429], statuses  # five failures of bob, then a pause
        assert "Too many failed logins" in text
        right = {"csrf": csrf, "username": "bob", "password": PASSWORD, "next": "/ui/events"}
        async with session.post(f"{vtn.base_url}/ui/login", data=right, allow_redirects=False) as reply:
            assert reply.status == 429  # even the right password waits out the pause


async def test_absurd_dates_and_nul_characters_are_400_naming_the_field(vtn):
    await add_user(vtn.admin_store, "carol", "operator")
    session = await login(vtn.base_url, "carol")
    try:
        for path, field in (
            ("/ui/events?to=9999-12-31", "to"),
            ("/ui/events.csv?to=9999-12-31", "to"),
            ("/ui/events?site=%00", "site"),
            ("/ui/vens?q=%00", "q"),
            ("/ui/reports?ven=%00", "ven"),
            ("/ui/events/%00", "event_id"),
        ):
            status, body = await _page(session, f"{vtn.base_url}{path}")
            assert status == 400 and body.startswith(f"{field}:"), (path, status, body)
        # an id that would point the confirmation form at another action is simply not an event
        for path, field in (
            ("/ui/events/..%2Fvens%2FVEN1%2Freregister%23/cancel", "event_id"),
            ("/ui/vens/nobody/reregister", "ven_id"),
            ("/ui/vens/nobody/request-report", "ven_id"),
        ):
            status, body = await _page(session, f"{vtn.base_url}{path}")
            assert status == 404 and body.startswith(f"{field}:"), (path, status, body)
    finally:
        await session.close()


async def test_cancel_needs_the_csrf_token_and_the_operator_role_and_is_audited(vtn):
    await add_user(vtn.admin_store, "viewer1", "viewer")
    await add_user(vtn.admin_store, "op1", "operator")
    reg = await vtn.client.register("site-cancel")
    await vtn.client.poll(reg.ven_id)  # the VTN's own report registration
    event = await vtn.create_event(values=(2.0,))
    first = await vtn.client.poll(reg.ven_id)
    assert isinstance(first, m.DistributeEvent) and first.events[0].status != "cancelled"
    await vtn.client.ack(reg.ven_id, first.events, "optOut")
    await vtn.process.sync.flush_deliveries()
    url = f"{vtn.base_url}/ui/events/{event.event_id}/cancel"
    viewer = await login(vtn.base_url, "viewer1")
    operator = await login(vtn.base_url, "op1")
    try:
        status, html = await _page(viewer, f"{vtn.base_url}/ui/events/{event.event_id}")
        assert status == 200 and 'id="cancel-event"' not in html
        status, text = await _page(viewer, f"{vtn.base_url}/ui/events/{event.event_id}/deliveries.csv")
        (row,) = list(csv.DictReader(io.StringIO(text)))
        assert (row["ven_id"], row["opt_type"], row["acknowledged_modification"], row["delivered_modification"]) == (
            reg.ven_id, "optOut", "0", "0",
        )  # fmt: skip
        assert (await _page(viewer, f"{vtn.base_url}/ui/events/nope/deliveries.csv"))[0] == 404
        # the same rows as JSON, with the event's status (what the demo follows)
        status, text = await _page(viewer, f"{vtn.base_url}/ui/events/{event.event_id}/deliveries.json")
        found = json.loads(text)
        stored, _ = await vtn.admin_store.call(repo.load_event, event.event_id)
        assert status == 200 and found["event_id"] == event.event_id and found["status"] == stored.event.status
        assert found["cancelled"] is False
        assert [{k: str(v) if v is not None else "" for k, v in d.items()} for d in found["deliveries"]] == [row]
        assert (await _page(viewer, f"{vtn.base_url}/ui/events/nope/deliveries.json"))[0] == 404
        async with viewer.post(url, data={"csrf": hidden(html, "csrf")}) as reply:
            assert reply.status == 403 and "role" in await reply.text()
        status, confirm = await _page(operator, url)
        assert status == 200 and "Cancel event" in confirm
        async with operator.post(url, data={"reason": "grid is fine"}) as reply:  # no token
            assert reply.status == 403 and "csrf" in await reply.text()
        async with operator.post(url, data={"csrf": "forged", "reason": "x"}) as reply:
            assert reply.status == 403
        stored, _ = await vtn.admin_store.call(repo.load_event, event.event_id)
        assert not stored.cancelled
        form = {"csrf": hidden(confirm, "csrf"), "reason": "grid is fine"}
        async with operator.post(url, data=form, allow_redirects=False) as reply:
            assert reply.status == 303
        async with operator.post(url, data=form) as reply:  # twice: a clear refusal, not a 500
            assert reply.status == 409 and "event_id" in await reply.text()
    finally:
        await viewer.close()
        await operator.close()
    stored, _ = await vtn.admin_store.call(repo.load_event, event.event_id)
    assert stored.cancelled and stored.event.status == "cancelled" and stored.event.modification_number == 1
    entries = await vtn.admin_store.call(users.audit_log)
    # newest first: the operator's cancellation, then the creation by the test harness
    assert [(a["username"], a["action"], a["target"]) for a in entries] == [
        ("op1", "cancel_event", event.event_id),
        ("test", "create_event", event.event_id),
    ]
    assert entries[0]["detail"]["reason"] == "grid is fine"
    # the running VTN picks the change up from the store and the VEN receives the cancellation
    deadline = asyncio_time() + 30
    while True:
        reply = await vtn.client.poll(reg.ven_id)
        if isinstance(reply, m.DistributeEvent) and any(e.status == "cancelled" for e in reply.events):
            break
        assert asyncio_time() < deadline, "the VEN never received the cancellation"
        await vtn.process.sync.refresh()


def asyncio_time() -> float:
    return asyncio.get_running_loop().time()


async def test_event_log_filters_pages_and_csv_match_the_store(vtn):
    await add_user(vtn.admin_store, "v", "viewer")
    reg = await vtn.client.register("site-filter")
    await vtn.client.poll(reg.ven_id)
    ours = [
        await vtn.create_event(values=(1.0,), start_in=timedelta(hours=k + 2), target=m.Target(ven_ids=(reg.ven_id,)))
        for k in range(3)
    ]
    await vtn.client.poll(reg.ven_id)
    await vtn.process.sync.flush_deliveries()  # first deliveries are written every 2 s; now, for the test
    others = [await _event_elsewhere(vtn, timedelta(days=k + 1)) for k in range(4)]
    near = await _event_elsewhere(vtn, timedelta(minutes=5))
    cancelled = others[0]
    await vtn.admin(event_admin.cancel_event, cancelled.event_id, vtn.ctx.now(), actor="test")
    session = await login(vtn.base_url, "v")

    async def ids(query: str) -> list[str]:
        status, html = await _page(session, f"{vtn.base_url}/ui/events?{query}")
        assert status == 200, html
        return re.findall(r'<tr data-event="([^"]+)"', html)

    try:
        assert set(await ids("")) == {e.event_id for e in [*ours, *others, near]}
        assert await ids("status=cancelled") == [cancelled.event_id]
        assert await ids("status=near") == [near.event_id]
        assert set(await ids("program=test")) == {e.event_id for e in ours}
        assert set(await ids("site=site-filter")) == {e.event_id for e in ours}  # by oadrVenName
        assert set(await ids(f"site={reg.ven_id}")) == {e.event_id for e in ours}  # by venID
        day = (vtn.ctx.now() + timedelta(days=3)).astimezone(MARTINIQUE).date().isoformat()  # days are the UI's
        assert set(await ids(f"from={day}&to={day}")) == {others[2].event_id}
        assert await ids("sort=dtstart&order=asc") == [
            e.event_id for e in sorted([*ours, *others, near], key=lambda e: (e.dtstart, e.event_id))
        ]
        for query, field in (("status=bogus", "status"), ("program=nope", "program"), ("from=yesterday", "from"),
                             ("sort=size", "sort"), ("after=garbage", "after"), ("order=up", "order")):  # fmt: skip
            status, text = await _page(session, f"{vtn.base_url}/ui/events?{query}")
            assert status == 400 and text.startswith(f"{field}:"), (query, text)
        async with session.get(f"{vtn.base_url}/ui/events.csv") as reply:
            assert reply.status == 200 and reply.headers["Content-Type"].startswith("text/csv")
            exported = list(csv.DictReader(io.StringIO(await reply.text())))
        stored = {live.event.event_id: (live, closed) for live, closed in await vtn.admin_store.call(repo.list_events, 1000)}
        assert {r["event_id"] for r in exported} == set(stored)
        for row in exported:
            live, _ = stored[row["event_id"]]
            assert row["status"] == live.event.status and int(row["modification_number"]) == live.event.modification_number
            assert row["market_context"] == live.event.market_context and row["source"] == live.source
            assert int(row["delivered_vens"]) == (1 if row["event_id"] in {e.event_id for e in ours} else 0)
        async with session.get(f"{vtn.base_url}/ui/events.csv?status=cancelled") as reply:
            assert [r["event_id"] for r in csv.DictReader(io.StringIO(await reply.text()))] == [cancelled.event_id]
    finally:
        await session.close()


async def test_keyset_pages_walk_every_event_once(vtn):
    await add_user(vtn.admin_store, "v", "viewer")
    now = vtn.ctx.now()
    signal = event_admin.uniform_signal("SIMPLE", "level", [1.0], timedelta(minutes=15), None)
    same_start = now + timedelta(days=2)
    created = []
    for k in range(120):  # many share a dtstart: the event_id tie-break must keep pages apart
        event = event_admin.draft_event(
            market_context=PROGRAM, dtstart=same_start if k % 2 else now + timedelta(hours=k + 2), signals=(signal,),
            now=now, near_window=timedelta(hours=1), priority=k + 1,
        )  # fmt: skip
        await vtn.admin_store.call(event_admin.create_event, event, "bulk", now)
        created.append(event.event_id)
    session = await login(vtn.base_url, "v")
    try:
        for sort in ("dtstart", "created"):
            seen, url = [], f"{vtn.base_url}/ui/events?sort={sort}"
            while url:
                status, html = await _page(session, url)
                assert status == 200
                seen += re.findall(r'<tr data-event="([^"]+)"', html)
                following = re.search(r'href="(/ui/events\?[^"]+)" id="next-page"', html)
                url = vtn.base_url + following.group(1).replace("&amp;", "&") if following else None
            assert sorted(seen) == sorted(created) and len(seen) == len(set(seen)) == 120
    finally:
        await session.close()


async def test_ven_actions_are_confirmed_audited_and_reach_the_ven(vtn):
    await add_user(vtn.admin_store, "op", "operator")
    reg = await vtn.client.register("site-actions")
    session = await login(vtn.base_url, "op")
    try:
        status, html = await _page(session, f"{vtn.base_url}/ui/vens/{reg.ven_id}")
        assert status == 200 and "site-actions" in html and 'id="reregister"' in html
        status, html = await _page(session, f"{vtn.base_url}/ui/vens")
        assert status == 200 and f'data-ven="{reg.ven_id}"' in html and 'id="site-map"' in html
        csrf = hidden(html, "csrf")
        async with session.post(
            f"{vtn.base_url}/ui/vens/{reg.ven_id}/reregister", data={"csrf": csrf}, allow_redirects=False
        ) as r:
            assert r.status == 303
        form = {"csrf": csrf, "report": "NO_SUCH_REPORT", "granularity": "PT1M", "report_back": "PT5M"}
        async with session.post(f"{vtn.base_url}/ui/vens/{reg.ven_id}/request-report", data=form) as reply:
            assert reply.status == 409 and (await reply.text()).startswith("report:")
        form = {**form, "report": "TELEMETRY_USAGE", "granularity": "one minute"}
        async with session.post(f"{vtn.base_url}/ui/vens/{reg.ven_id}/request-report", data=form) as reply:
            assert reply.status == 400 and (await reply.text()).startswith("granularity:")
        status, html = await _page(session, f"{vtn.base_url}/ui/audit")
        assert status == 200 and "request_reregistration" in html
    finally:
        await session.close()
    entries = await vtn.admin_store.call(users.audit_log)
    assert [(a["username"], a["action"], a["target"]) for a in entries] == [("op", "request_reregistration", reg.ven_id)]
    deadline = asyncio_time() + 30
    while True:
        await vtn.process.sync.refresh()
        reply = await vtn.client.poll(reg.ven_id)
        if isinstance(reply, m.RequestReregistration):
            break
        assert asyncio_time() < deadline, "the VEN never received oadrRequestReregistration"


async def test_report_csv_matches_the_stored_points(vtn):
    await add_user(vtn.admin_store, "v", "viewer")
    t0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    points = [
        {"report_request_id": "rr-1", "report_specifier_id": "spec", "report_name": "TELEMETRY_USAGE", "r_id": "power",
         "reading_type": "Direct Read", "dtstart": t0 + timedelta(minutes=k), "duration_s": 60.0, "value": 1.5 + k,
         "status": None, "confidence": None, "accuracy": None, "data_quality": None}
        for k in range(5)
    ]  # fmt: skip
    await vtn.admin_store.call(reports.store_points, "ven-a", points, t0)
    await vtn.admin_store.call(reports.store_points, "ven-b", [{**points[0], "report_request_id": "rr-2"}], t0)
    session = await login(vtn.base_url, "v")
    try:
        async with session.get(f"{vtn.base_url}/ui/reports.csv?ven=ven-a") as reply:
            rows = list(csv.DictReader(io.StringIO(await reply.text())))
        status, html = await _page(session, f"{vtn.base_url}/ui/reports?ven=ven-a&since=2026-11-26T12:02:00Z")
        assert status == 200 and html.count('data-ven="ven-a"') == 3
        # a time without an offset is read in the UI's zone: 08:03 in Martinique is 12:03Z
        status, html = await _page(session, f"{vtn.base_url}/ui/reports?ven=ven-a&since=2026-11-26%2008:03")
        assert status == 200 and html.count('data-ven="ven-a"') == 2
        status, text = await _page(session, f"{vtn.base_url}/ui/reports?since=noon")
        assert status == 400 and text.startswith("since:")
    finally:
        await session.close()
    stored = await vtn.admin_store.call(reports.points, ven_id="ven-a")
    assert [(r["dtstart"], float(r["value"]), r["r_id"]) for r in rows] == [(p["dtstart"], p["value"], p["r_id"]) for p in stored]
    assert len(rows) == 5


@pytest.mark.external  # `cariflex user add` as a process
def test_user_add_never_prompts_and_stores_only_a_hash(sqlite_url, tmp_path):
    env = {**os.environ, "UI_PW": "s3cret-enough"}
    cmd = [sys.executable, "-m", "cariflex.cli", "user", "add", "ops", "--role", "operator", "--db", sqlite_url]
    done = subprocess.run(
        [*cmd, "--password-env", "UI_PW"], env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "created user ops (operator)" in done.stdout
    missing = subprocess.run(
        [*cmd, "--password-env", "NOT_SET_ANYWHERE"], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120
    )
    assert missing.returncode != 0 and "NOT_SET_ANYWHERE" in missing.stderr
    short = subprocess.run([*cmd, "--password-stdin"], input="short\n", capture_output=True, text=True, timeout=120)
    assert short.returncode == 1 and "password" in short.stderr
    store = StoreWorker(sqlite_url)
    try:
        password_hash, role = store.call_sync(users.find_user, "ops")
    finally:
        store.close()
    assert role == "operator" and "s3cret-enough" not in password_hash and check_password(password_hash, "s3cret-enough")


async def test_a_session_expires(vtn_sqlite):
    vtn = vtn_sqlite
    await add_user(vtn.admin_store, "late", "viewer")
    session = await login(vtn.base_url, "late")
    try:
        assert (await _page(session, f"{vtn.base_url}/ui/events"))[0] == 200
        later = vtn.ctx.now() + vtn.ctx.config.ui.session_lifetime + timedelta(seconds=1)
        vtn.ctx.clock = lambda: later  # the VTN's clock, which the UI's session check reads
        assert (await _page(session, f"{vtn.base_url}/ui/events"))[0] == 303
    finally:
        await session.close()


async def test_vens_go_by_site_name_and_a_ven_page_tells_its_site_and_answers(vtn):
    await add_user(vtn.admin_store, "v", "viewer")
    regs = {name: await vtn.client.register(name) for name in ("site-03", "site-01", "site-02")}  # venIDs are random
    first = regs["site-01"].ven_id
    event = await vtn.create_event(values=(1.0,), start_in=timedelta(hours=2), target=m.Target(ven_ids=(first,)))
    await vtn.client.ack(first, (await vtn.client.request_events(first)).events, "optIn")
    assert isinstance(await vtn.client.poll(first), r.RegisterReport)  # the VTN's own report registration
    await vtn.client.send("EiReport", register_reports(first, usage_metadata()))
    session = await login(vtn.base_url, "v")
    try:
        # the list as JSON, for scripts and the demo: the same order, what each VEN registered and offers
        status, text = await _page(session, f"{vtn.base_url}/ui/vens.json")
        listed = json.loads(text)
        assert status == 200 and listed["next"] is None
        assert [v["ven_id"] for v in listed["vens"]] == [regs[n].ven_id for n in ("site-01", "site-02", "site-03")]
        summary = await vtn.admin_store.call(ven_overview.one_ven, first)
        assert listed["vens"][0]["reports"] == list(summary.reports) and summary.reports
        assert listed["vens"][0]["registration_id"] == regs["site-01"].registration_id and listed["vens"][0]["online"]
        status, html = await _page(session, f"{vtn.base_url}/ui/vens")
        assert status == 200
        assert re.findall(r'<tr data-ven="([^"]+)"', html) == [regs[n].ven_id for n in ("site-01", "site-02", "site-03")]
        status, html = await _page(session, f"{vtn.base_url}/ui/vens/{first}")
        assert status == 200 and "Fort-de-France" in html and "PV 5 kWp" in html and "9 kVA" in html
        answer = re.search(rf'<tr data-event="{event.event_id}">.*?<td class="opt">([^<]+)</td>', html, re.S)
        assert answer and answer.group(1) == "optIn"
    finally:
        await session.close()
    page_one, more = await vtn.admin_store.call(ven_overview.ven_page, None, None, 2)
    last = (page_one[-1].ven_name, page_one[-1].ven_id)
    page_two, more_after = await vtn.admin_store.call(ven_overview.ven_page, last, None, 2)
    assert [v.ven_name for v in page_one + page_two] == ["site-01", "site-02", "site-03"] and more and not more_after
