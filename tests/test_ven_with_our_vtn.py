"""Our VEN against our VTN, end to end: registration, reports, events with their callbacks,
modification, cancellation, opt schedules, a VTN outage (nothing lost) and a VEN restart mid-event."""

from datetime import timedelta

import pytest
from aiohttp.test_utils import TestServer

from tests.support.eventually import eventually
from tests.support.ven_harness import RecordingHooks, running_ven, ven_config
from tests.support.vtn_harness import config_for_tests, running_vtn
from vtn.app import build
from vtn.config import AutoReport
from vtn.store import report_repository as reports
from vtn.store import repository as repo

pytestmark = pytest.mark.slow  # events run in real time

FAST = dict(
    poll_interval=timedelta(seconds=1), auto_reports=(AutoReport("TELEMETRY_USAGE", timedelta(seconds=1), timedelta(seconds=1)),)
)


def _url(vtn) -> str:
    return f"{vtn.base_url}/OpenADR2/Simple/2.0b"


async def test_event_lifecycle_reports_and_answers(sqlite_url, tmp_path):
    hooks = RecordingHooks()
    async with (
        running_vtn(config_for_tests(sqlite_url, **FAST)) as vtn,
        running_ven(ven_config(_url(vtn), tmp_path / "ven.db", "site-a"), hooks) as ven,
    ):
        site = ven.vens["site-a"]
        await eventually(lambda: site.site.registration is not None, what="registration")
        ven_id = site.site.ven_id
        await eventually(lambda: vtn.ctx.store.call(reports.points, ven_id=ven_id), what="telemetry at the VTN")
        event = await vtn.create_event(values=(3.0, 2.0), interval=timedelta(seconds=1), start_in=timedelta(seconds=2))
        await eventually(lambda: "end" in hooks.kinds(event.event_id), timeout=15, what="the event to run")
        assert hooks.kinds(event.event_id) == ["event", "start", "interval", "interval", "end"]
        responses = await vtn.ctx.store.call(repo.event_responses, event.event_id)
        assert [(v, n, o) for v, n, o, _c, _t in responses] == [(ven_id, 0, "optIn")]
        values = {p["r_id"]: p["value"] for p in await vtn.ctx.store.call(reports.points, ven_id=ven_id)}
        assert values == {"site-power": 1.5, "asset-power": 0.0}


async def test_modification_cancellation_and_opt_schedule(sqlite_url, tmp_path):
    hooks = RecordingHooks()
    async with (
        running_vtn(config_for_tests(sqlite_url, **FAST)) as vtn,
        running_ven(ven_config(_url(vtn), tmp_path / "ven.db", "site-b"), hooks) as ven,
    ):
        site = ven.vens["site-b"]
        await eventually(lambda: site.site.registration is not None, what="registration")
        event = await vtn.create_event(values=(1.0,), start_in=timedelta(hours=1))
        await eventually(lambda: ("event", event.event_id, (0, "optIn")) in hooks.calls, what="the event")
        await vtn.modify_event(event.event_id, priority=2)
        await eventually(lambda: ("event", event.event_id, (1, "optIn")) in hooks.calls, what="the modification")
        await vtn.cancel_event(event.event_id)
        await eventually(lambda: ("cancel", event.event_id, False) in hooks.calls, what="the cancellation")
        await eventually(lambda: _answered(vtn, event.event_id, 2), what="the answer to the cancellation")
        opt_id = await site.create_opt_schedule(((event.dtstart, timedelta(hours=2)),))
        opts = await vtn.ctx.store.call(reports.list_opts, site.site.ven_id)
        assert [(o["opt_id"], o["opt_type"]) for o in opts] == [(opt_id, "optOut")]
        await site.cancel_opt(opt_id)
        assert (await vtn.ctx.store.call(reports.list_opts, site.site.ven_id))[0]["cancelled_at"] is not None


async def _answered(vtn, event_id: str, modification: int) -> bool:
    return any(n == modification for _v, n, _o, _c, _t in await vtn.ctx.store.call(repo.event_responses, event_id))


async def test_import_limit_below_what_the_site_can_do_is_opted_out(sqlite_url, tmp_path):
    hooks = RecordingHooks()
    async with (
        running_vtn(config_for_tests(sqlite_url, **FAST)) as vtn,
        running_ven(ven_config(_url(vtn), tmp_path / "ven.db", "site-c"), hooks),
    ):
        event = await vtn.create_event(values=(0.5,), signal=("x-IMPORT_CAPACITY_LIMIT", "setpoint"), start_in=timedelta(hours=1))
        await eventually(lambda: _answered(vtn, event.event_id, 0), what="the answer")
        responses = await vtn.ctx.store.call(repo.event_responses, event.event_id)
        assert [o for _v, _n, o, _c, _t in responses] == ["optOut"]
        assert "start" not in hooks.kinds(event.event_id)


async def test_reports_made_while_the_vtn_is_down_are_delivered_when_it_is_back(sqlite_url, tmp_path):
    config = config_for_tests(sqlite_url, **FAST)
    first = build(config)
    server = TestServer(first.app, host="127.0.0.1", port=0)
    await server.start_server()
    port = server.port
    url = f"http://127.0.0.1:{port}/OpenADR2/Simple/2.0b"
    async with running_ven(ven_config(url, tmp_path / "ven.db", "site-d")) as ven:
        site = ven.vens["site-d"]
        await eventually(lambda: first.ctx.store.call(reports.points, ven_id=site.site.ven_id), what="first telemetry")
        await server.close()  # the VTN goes away
        await eventually(lambda: len(site.site.store.unsent("site-d")) >= 2, timeout=10, what="reports queued on disk")
        again = build(config)  # and comes back on the same store and port
        server = TestServer(again.app, host="127.0.0.1", port=port)
        await server.start_server()
        try:
            await eventually(lambda: not site.site.store.unsent("site-d"), timeout=15, what="the queue to drain")
            stored = await again.ctx.store.call(reports.points, ven_id=site.site.ven_id)
            times = sorted({p["dtstart"] for p in stored})
            gaps = [b for a, b in zip(times, times[1:], strict=False) if _seconds_between(a, b) > 1]
            assert not gaps, f"reports were lost: gaps before {gaps}"
        finally:
            await server.close()


def _seconds_between(a: str, b: str) -> float:
    from mapping.oadr.timefmt import parse_datetime

    return (parse_datetime(b) - parse_datetime(a)).total_seconds()


@pytest.mark.parametrize("stop_at", ["before", "during"])
async def test_restart_mid_event_resumes_without_registering_again(sqlite_url, tmp_path, stop_at):
    async with running_vtn(config_for_tests(sqlite_url, **FAST)) as vtn:
        config = ven_config(_url(vtn), tmp_path / "ven.db", "site-e")
        first = RecordingHooks()
        async with running_ven(config, first) as ven:
            await eventually(lambda: ven.vens["site-e"].site.registration is not None, what="registration")
            ven_id = ven.vens["site-e"].site.ven_id
            event = await vtn.create_event(values=(1.0, 2.0, 3.0), interval=timedelta(seconds=2), start_in=timedelta(seconds=1))
            target = "event" if stop_at == "before" else "start"
            await eventually(lambda: target in first.kinds(event.event_id), what=target)
        second = RecordingHooks()
        async with running_ven(config, second) as ven:
            await eventually(
                lambda: "end" in second.kinds(event.event_id), timeout=15, what="the event to finish after the restart"
            )
            assert ven.vens["site-e"].site.ven_id == ven_id
        kinds = second.kinds(event.event_id)
        assert kinds[-1] == "end" and "interval" in kinds
        if stop_at == "during":
            assert ("start", event.event_id, True) in second.calls  # resumed, not started afresh
        vens = await vtn.ctx.store.call(repo.load_vens)
        assert [v.ven_id for v in vens] == [ven_id]
