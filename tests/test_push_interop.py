"""Our VEN in push mode against our VTN, end to end over real HTTP: registration (the VTN pushes its
oadrRegisterReport and the report requests), events pushed on create / modify / cancel with the
oadrCreatedEvent in the HTTP response, reports POSTed as usual, no polling at all; then the VEN is down
for a while (its port closed) and gets every message once it is back; a pull VEN is served alongside."""

from dataclasses import replace
from datetime import timedelta

import aiohttp
import pytest

from mapping.oadr.encode import encode
from tests.conformance.push_helpers import FAST_PUSH
from tests.support.eventually import eventually
from tests.support.ven_harness import RecordingHooks, running_ven, ven_config
from tests.support.vtn_harness import config_for_tests, running_vtn
from tests.ven_conformance import distribute
from tests.ven_conformance import event as ven_conformance_event
from ven.agent import SiteVen
from ven.config import PushSettings
from vtn.config import AutoReport
from vtn.ops.metrics import PUSH_ATTEMPTS
from vtn.store import report_repository as reports
from vtn.store import repository as repo

FAST = dict(
    poll_interval=timedelta(seconds=1),
    auto_reports=(AutoReport("TELEMETRY_USAGE", timedelta(seconds=1), timedelta(seconds=1)),),
    push=FAST_PUSH,
)


def _url(vtn) -> str:
    return f"{vtn.base_url}/OpenADR2/Simple/2.0b"


def push_ven_config(vtn, tmp_path, *names: str):
    return replace(ven_config(_url(vtn), tmp_path / "ven.db", *names), push=PushSettings(port=0))


async def _answered(vtn, event_id: str, modification: int) -> bool:
    return any(n == modification for _v, n, _o, _c, _t in await vtn.ctx.store.call(repo.event_responses, event_id))


@pytest.mark.slow  # an event run in real time
async def test_push_ven_gets_events_and_reports_without_polling(sqlite_url, tmp_path, monkeypatch):
    hooks = RecordingHooks()
    polls: list[str] = []
    poll = SiteVen.poll_until_drained

    async def counted(self: SiteVen) -> None:
        polls.append(self.site.name)
        await poll(self)

    monkeypatch.setattr(SiteVen, "poll_until_drained", counted)
    async with running_vtn(config_for_tests(sqlite_url, **FAST)) as vtn:
        async with running_ven(push_ven_config(vtn, tmp_path, "site-p"), hooks) as ven:
            site = ven.vens["site-p"]
            await eventually(lambda: site.site.registration is not None, what="registration")
            ven_id = site.site.ven_id
            record = vtn.ctx.live.vens[ven_id]
            assert record.http_pull_model is False and record.transport_address == site.site.push_address
            # the report request went out by push (oadrRegisteredReport piggy-back or oadrCreateReport): data arrives
            await eventually(lambda: vtn.ctx.store.call(reports.points, ven_id=ven_id), what="telemetry at the VTN")
            event = await vtn.create_event(values=(1.0,), start_in=timedelta(hours=1))
            await eventually(lambda: ("event", event.event_id, (0, "optIn")) in hooks.calls, what="the pushed event")
            await eventually(lambda: _answered(vtn, event.event_id, 0), what="the oadrCreatedEvent in the push answer")
            await vtn.modify_event(event.event_id, priority=2)
            await eventually(lambda: ("event", event.event_id, (1, "optIn")) in hooks.calls, what="the modification")
            await vtn.cancel_event(event.event_id)
            await eventually(lambda: ("cancel", event.event_id, False) in hooks.calls, what="the cancellation")
            await eventually(lambda: _answered(vtn, event.event_id, 2), what="the answer to the cancellation")
            assert vtn.process.pusher.counters.failures == 0
            # what /metrics exposes: one delivered POST per push above (event, modification, cancellation and more)
            assert vtn.ctx.tally.value(PUSH_ATTEMPTS, ("delivered",)) >= 3
            assert vtn.ctx.tally.value(PUSH_ATTEMPTS, ("failed",)) == 0
        assert polls == []


async def test_push_ven_down_then_back_gets_everything(sqlite_url, tmp_path):
    """The VEN's endpoint goes away; the VTN keeps the messages and retries with back-off; once the
    VEN is back (same port) it gets the events made meanwhile and the queued request."""
    hooks = RecordingHooks()
    async with running_vtn(config_for_tests(sqlite_url, **FAST)) as vtn:
        async with running_ven(push_ven_config(vtn, tmp_path, "site-d"), hooks) as ven:
            site = ven.vens["site-d"]
            await eventually(lambda: site.site.registration is not None, what="registration")
            ven_id, port = site.site.ven_id, ven.endpoints["site-d"].port
        # the VEN process is stopped: its port is closed
        first = await vtn.create_event(values=(1.0,), start_in=timedelta(hours=1))
        second = await vtn.create_event(values=(2.0,), start_in=timedelta(hours=2))
        await vtn.queue(ven_id, "request_reregistration")
        await eventually(lambda: vtn.process.pusher.counters.failures >= 3, what="failed pushes")
        assert vtn.process.pusher.counters.retries >= 2
        assert vtn.ctx.live.next_outbox(ven_id, vtn.ctx.now()) is not None  # still queued
        back = replace(push_ven_config(vtn, tmp_path, "site-d"), push=PushSettings(port=port))
        async with running_ven(back, hooks) as ven:
            for event in (first, second):
                await eventually(lambda e=event: _answered(vtn, e.event_id, 0), timeout=15, what="events made while down")
            await eventually(lambda: vtn.ctx.live.next_outbox(ven_id, vtn.ctx.now()) is None, what="the queued request delivered")
            assert ven.vens["site-d"].site.ven_id == ven_id


@pytest.mark.slow  # an event run in real time
async def test_pull_and_push_vens_side_by_side(sqlite_url, tmp_path):
    hooks_push, hooks_pull = RecordingHooks(), RecordingHooks()
    async with (
        running_vtn(config_for_tests(sqlite_url, **FAST)) as vtn,
        running_ven(push_ven_config(vtn, tmp_path, "site-push"), hooks_push) as push_ven,
        running_ven(replace(ven_config(_url(vtn), tmp_path / "pull.db", "site-pull")), hooks_pull) as pull_ven,
    ):
        for ven, name in ((push_ven, "site-push"), (pull_ven, "site-pull")):
            await eventually(lambda v=ven, n=name: v.vens[n].site.registration is not None, what=f"{name} registered")
        event = await vtn.create_event(values=(1.0,), start_in=timedelta(hours=1))
        for hooks in (hooks_push, hooks_pull):
            await eventually(lambda h=hooks: ("event", event.event_id, (0, "optIn")) in h.calls, what="the event")
        modes = {v.ven_name: v.http_pull_model for v in vtn.ctx.live.vens.values()}
        assert modes == {"site-push": False, "site-pull": True}


async def test_a_restarted_push_ven_takes_pushes_at_once(sqlite_url, tmp_path):
    """A push VEN process restarted with its registration stored resumes it before its endpoint opens: a
    push that arrives at once is taken (HTTP 200 with its answer), not turned away with 503 "not registered"
    until the site's first cycle (seconds later with several sites, whose first cycles are spread)."""
    async with running_vtn(config_for_tests(sqlite_url, **FAST)) as vtn:
        config = push_ven_config(vtn, tmp_path, "site-r")
        async with running_ven(config, RecordingHooks()) as ven:
            await eventually(lambda: ven.vens["site-r"].site.registration is not None, what="registration")
            ven_id, port = ven.vens["site-r"].site.ven_id, ven.endpoints["site-r"].port
        async with running_ven(replace(config, push=PushSettings(port=port)), RecordingHooks()) as ven:
            site = ven.vens["site-r"].site
            assert site.registration is not None and site.ven_id == ven_id  # before any cycle of the site has run
            event = distribute(vtn.ctx.config.vtn_id, ven_conformance_event())
            async with aiohttp.ClientSession() as session:
                async with session.post(
                    f"{site.push_address}/EiEvent", data=encode(event), headers={"Content-Type": "application/xml"}
                ) as response:
                    assert response.status == 200, await response.text()
                    assert b"oadrCreatedEvent" in await response.read()
