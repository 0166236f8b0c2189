"""The pusher's delivery rules beyond the conformance cases: a message the VEN refuses for good does not
hold up its queue or its events, only the answer to the pushed message is taken, an over-size answer is
not read, a VEN that registers again is pushed without waiting out its back-off, the pusher catches up
with other processes before pushing events, and stopping waits for a delivered message's follow-up.
The VEN is the push harness (tests/support/push_ven.py) on a free loopback port."""

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from mapping.oadr import model as m
from mapping.oadr import report_model as r
from tests.conformance.push_helpers import (  # noqa: F401 (fixtures)
    FAST_PUSH,
    drained,
    push_config,
    push_endpoint_fixture,
    push_registration,
    push_vtn_fixture,
    register_push,
)
from tests.support.eventually import eventually
from tests.support.push_ven import PushVen
from tests.support.vtn_harness import VtnUnderTest, running_vtn
from vtn.oadr.push import pusher as pusher_module
from vtn.store import repository as repo


@pytest.mark.parametrize("status", [400, 404, 415])
async def test_a_queued_message_refused_for_good_is_dropped_and_events_still_go(vtn, endpoint, status):
    """The VEN answers HTTP 4xx to the oadrRegisterReport the VTN queues on registration (the review's
    case: a VEN that does not take one report message): it is dropped without being pushed again,
    counted as a bad answer, and the event made next is pushed."""
    endpoint.statuses["oadrRegisterReport"] = status
    reg = await register_push(vtn, endpoint)
    await vtn.create_event()
    await endpoint.next(m.DistributeEvent)
    await drained(vtn, reg.ven_id)
    assert vtn.process.pusher.counters.bad_answers >= 1
    assert await vtn.ctx.store.call(repo.pending_outbox, reg.ven_id) == []


async def test_a_refused_cancellation_of_the_registration_still_ends_it(vtn, endpoint):
    """The VTN cancels a push VEN's registration and the VEN answers HTTP 400 to the
    oadrCancelPartyRegistration: the message is dropped, but the registration ends all the same (the VTN
    decides who is registered) and nothing more is pushed to the VEN."""
    reg = await register_push(vtn, endpoint)
    await drained(vtn, reg.ven_id)
    endpoint.statuses["oadrCancelPartyRegistration"] = 400
    await vtn.queue(reg.ven_id, "cancel_registration")
    await endpoint.next(m.CancelPartyRegistration)
    await eventually(lambda: vtn.ctx.live.vens[reg.ven_id].registration_id is None, "the registration ends")
    stored = await vtn.ctx.store.call(repo.load_ven, reg.ven_id)
    assert stored is not None and stored.registration_id is None
    assert vtn.process.pusher.counters.bad_answers >= 1
    await vtn.create_event()
    await endpoint.nothing_more()


async def test_a_queued_message_answered_429_is_pushed_again(vtn, endpoint):
    """429 (and 408) say "later", not "never": the message stays queued and is pushed again."""
    reg = await register_push(vtn, endpoint)
    await drained(vtn, reg.ven_id)
    endpoint.statuses["oadrRequestReregistration"] = 429
    await vtn.queue(reg.ven_id, "request_reregistration")
    await endpoint.next(m.RequestReregistration)
    await endpoint.next(m.RequestReregistration)
    del endpoint.statuses["oadrRequestReregistration"]
    await drained(vtn, reg.ven_id)
    assert vtn.process.pusher.counters.bad_answers == 0


async def test_a_queued_message_that_cannot_be_encoded_is_dropped_and_events_still_go(vtn, endpoint):
    """A queued item of a kind this VTN cannot encode is dropped (counted), not retried for ever ahead of
    the VEN's events."""
    reg = await register_push(vtn, endpoint)
    await drained(vtn, reg.ven_id)
    await vtn.admin(repo.enqueue, reg.ven_id, "no_such_kind", {}, vtn.ctx.now())
    await vtn.create_event()
    await endpoint.next(m.DistributeEvent)
    await drained(vtn, reg.ven_id)
    assert vtn.process.pusher.counters.bad_answers >= 1


async def test_only_the_answer_to_the_pushed_message_is_taken(vtn, endpoint):
    """Answering a pushed oadrRequestReregistration with an oadrCancelPartyRegistration is not processed
    (it would cancel the registration, its reply thrown away): counted as a bad answer, still registered."""
    reg = await register_push(vtn, endpoint)
    await drained(vtn, reg.ven_id)
    endpoint.answers["oadrRequestReregistration"] = lambda _msg: m.CancelPartyRegistration(
        "req-cancel", reg.registration_id or "", reg.ven_id
    )
    await vtn.queue(reg.ven_id, "request_reregistration")
    await endpoint.next(m.RequestReregistration)
    await drained(vtn, reg.ven_id)
    assert vtn.process.pusher.counters.bad_answers >= 1
    assert vtn.ctx.live.vens[reg.ven_id].registration_id == reg.registration_id


async def test_an_endless_answer_is_cut_at_max_body_bytes(vtn, endpoint):
    """A VEN that answers HTTP 200 with a body that never ends: the VTN stops reading past max_body_bytes,
    counts a bad answer and takes the push as delivered (rather than reading until the push times out)."""
    reg = await register_push(vtn, endpoint)
    await drained(vtn, reg.ven_id)
    endpoint.endless.add("oadrDistributeEvent")
    await vtn.create_event()
    await endpoint.next(m.DistributeEvent)
    pusher = vtn.process.pusher
    await eventually(lambda: pusher.counters.bad_answers >= 1, "the over-size answer is counted")
    assert pusher.counters.failures == 0


async def test_a_ven_that_registers_again_is_pushed_without_waiting_out_its_back_off(db_url):
    """The VEN is down long enough to be backing off for a minute; it comes back and registers again:
    it is pushed its registration's oadrRegisterReport and its events at once."""
    slow = replace(FAST_PUSH, min_backoff=timedelta(seconds=60), max_backoff=timedelta(seconds=120))
    endpoint = PushVen()
    await endpoint.start()
    try:
        async with running_vtn(push_config(db_url, push=slow)) as vtn:
            reg = await register_push(vtn, endpoint)
            await drained(vtn, reg.ven_id)
            endpoint.down_status = 503
            await vtn.create_event()
            await eventually(lambda: vtn.process.pusher.counters.failures >= 1, "a failed push")
            endpoint.down_status = None
            again = await vtn.client.send("EiRegisterParty", push_registration("th-push-ven", endpoint.address))
            assert isinstance(again, m.CreatedPartyRegistration) and again.registration_id != reg.registration_id
            kinds = {type((await endpoint.next(timeout=10))[1]) for _ in range(2)}
            assert kinds == {r.RegisterReport, m.DistributeEvent}
        endpoint.check()
    finally:
        await endpoint.close()


async def test_events_are_pushed_after_catching_up(vtn, endpoint, monkeypatch):
    """Like a poll, a push of events first applies what other processes committed (ctx.catch_up)."""
    caught_up: set[asyncio.Task] = set()
    encoded_after_catch_up: list[bool] = []
    catch_up, encode_events = vtn.ctx.catch_up, pusher_module.encode_events

    async def recording_catch_up() -> None:
        caught_up.add(asyncio.current_task())
        await catch_up()

    def recording_encode(ctx, events):  # type: ignore[no-untyped-def]
        encoded_after_catch_up.append(asyncio.current_task() in caught_up)
        return encode_events(ctx, events)

    monkeypatch.setattr(vtn.ctx, "catch_up", recording_catch_up)
    monkeypatch.setattr(pusher_module, "encode_events", recording_encode)
    await register_push(vtn, endpoint)
    await vtn.create_event()
    await endpoint.next(m.DistributeEvent)
    assert encoded_after_catch_up and all(encoded_after_catch_up)


async def test_stop_waits_for_a_delivered_messages_follow_up(vtn: VtnUnderTest, endpoint: PushVen, monkeypatch) -> None:
    """The pusher is stopped while a delivered oadrCancelPartyRegistration's follow-up (ending the
    registration in the store) is under way: stop() returns only once it is done, so the store is not
    closed under it."""
    entered, gate, done = asyncio.Event(), asyncio.Event(), asyncio.Event()
    follow_up = pusher_module.after_outbox_delivery

    async def held_follow_up(ctx, ven, item) -> None:  # type: ignore[no-untyped-def]
        if item.kind != "cancel_registration":
            return await follow_up(ctx, ven, item)
        entered.set()
        await gate.wait()
        await follow_up(ctx, ven, item)
        done.set()

    monkeypatch.setattr(pusher_module, "after_outbox_delivery", held_follow_up)
    reg = await register_push(vtn, endpoint)
    await drained(vtn, reg.ven_id)
    await vtn.queue(reg.ven_id, "cancel_registration")
    await endpoint.next(m.CancelPartyRegistration)
    await entered.wait()
    pusher = vtn.process.pusher
    pushes = set(pusher._tasks)
    stopping = asyncio.create_task(pusher.stop())
    await asyncio.wait(pushes)  # stop() cancelled the push that awaits the follow-up
    gate.set()
    await stopping
    assert done.is_set()
    assert not vtn.ctx.live.vens[reg.ven_id].registered
