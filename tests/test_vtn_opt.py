"""EiOpt on our VTN: availability schedules and per-event opts, persisted and shown with events."""

from datetime import timedelta

from mapping.oadr import model as m
from mapping.oadr import report_model as r
from mapping.oadr.codes import ResponseCode
from mapping.oadr.lifecycle import event_end
from tests.support.reports import opt_event, opt_schedule
from vtn.store import report_repository as store


async def _covering(vtn, event: m.Event) -> list[dict]:
    return await vtn.ctx.store.call(
        store.opts_covering, event.event_id, event.dtstart, event_end(event.dtstart, event.duration), event.market_context
    )


async def test_availability_schedule_is_stored_and_covers_overlapping_events(vtn):
    reg = await vtn.client.register("site-opt-schedule")
    event = await vtn.create_event(values=(1, 1), start_in=timedelta(hours=2))
    later = await vtn.create_event(values=(1,), start_in=timedelta(hours=8))
    answer = await vtn.client.send(
        "EiOpt", opt_schedule(reg.ven_id, "opt-1", event.dtstart - timedelta(minutes=30), timedelta(hours=1))
    )
    assert isinstance(answer, m.Acknowledgement) and answer.name == "oadrCreatedOpt"
    assert answer.response.code == 200 and answer.opt_id == "opt-1"
    covering = await _covering(vtn, event)
    assert [(o["ven_id"], o["opt_id"], o["opt_type"]) for o in covering] == [(reg.ven_id, "opt-1", "optOut")]
    assert await _covering(vtn, later) == []


async def test_opt_on_an_event_is_stored(vtn):
    reg = await vtn.client.register("site-opt-event")
    event = await vtn.create_event()
    answer = await vtn.client.send("EiOpt", opt_event(reg.ven_id, "opt-ev", event))
    assert answer.response.code == 200
    assert [o["opt_id"] for o in await _covering(vtn, event)] == ["opt-ev"]


async def test_opt_on_an_unknown_event_gets_452(vtn):
    reg = await vtn.client.register("site-opt-unknown")
    event = await vtn.create_event()
    ghost = m.Event(**{**event.__dict__, "event_id": "no-such-event"})
    answer = await vtn.client.send("EiOpt", opt_event(reg.ven_id, "opt-x", ghost))
    assert answer.name == "oadrCreatedOpt" and answer.response.code == ResponseCode.INVALID_ID


async def test_an_opt_id_sent_again_replaces_that_opt(vtn):
    reg = await vtn.client.register("site-opt-repeat")
    event = await vtn.create_event()
    first = opt_event(reg.ven_id, "opt-r", event)
    assert (await vtn.client.send("EiOpt", first)).response.code == 200
    assert (await vtn.client.send("EiOpt", first)).response.code == 200
    changed = opt_event(reg.ven_id, "opt-r", event, opt_type="optIn")
    assert (await vtn.client.send("EiOpt", changed)).response.code == 200
    assert [o["opt_type"] for o in await vtn.ctx.store.call(store.list_opts, reg.ven_id)] == ["optIn"]


async def test_open_ended_schedule_covers_every_later_event(vtn):
    reg = await vtn.client.register("site-opt-open")
    event = await vtn.create_event(start_in=timedelta(days=3))
    answer = await vtn.client.send("EiOpt", opt_schedule(reg.ven_id, "opt-open", event.dtstart - timedelta(days=1), timedelta(0)))
    assert answer.response.code == 200
    assert [o["opt_id"] for o in await _covering(vtn, event)] == ["opt-open"]


async def test_cancel_opt_and_unknown_opt_id(vtn):
    reg = await vtn.client.register("site-opt-cancel")
    event = await vtn.create_event(start_in=timedelta(hours=1))
    await vtn.client.send("EiOpt", opt_schedule(reg.ven_id, "opt-c", event.dtstart, timedelta(hours=1)))
    answer = await vtn.client.send("EiOpt", r.CancelOpt(request_id="c-1", opt_id="opt-c", ven_id=reg.ven_id))
    assert answer.name == "oadrCanceledOpt" and answer.response.code == 200 and answer.opt_id == "opt-c"
    assert await _covering(vtn, event) == []
    unknown = await vtn.client.send("EiOpt", r.CancelOpt(request_id="c-2", opt_id="never-made", ven_id=reg.ven_id))
    assert unknown.name == "oadrCanceledOpt" and unknown.response.code == ResponseCode.INVALID_ID


async def test_opt_without_event_or_schedule_is_refused(vtn):
    reg = await vtn.client.register("site-opt-empty")
    bare = r.CreateOpt(
        opt_id="opt-empty",
        opt_type="optOut",
        opt_reason="x-schedule",
        ven_id=reg.ven_id,
        created=vtn.ctx.now(),
        request_id="q",
        target=m.Target(ven_ids=(reg.ven_id,)),
    )
    answer = await vtn.client.send("EiOpt", bare)
    assert answer.response.code == ResponseCode.INVALID_DATA


async def test_opt_from_an_unregistered_ven_gets_463(vtn):
    event = await vtn.create_event()
    answer = await vtn.client.send("EiOpt", opt_event("ghost-ven", "opt-g", event))
    assert answer.response.code == ResponseCode.NOT_REGISTERED_OR_AUTHORIZED
