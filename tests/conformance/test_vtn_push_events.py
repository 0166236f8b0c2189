"""Event conformance of our VTN in push mode: E0_6010…E0_6080 and the 2.0a-derived A_E2 cases, with the
test harness playing a push VEN (TH_VEN, tests/support/push_ven.py). The VTN POSTs oadrDistributeEvent
to <transportAddress>/EiEvent on every create, modification, cancellation and status change — the same
content a poll would give that VEN — and takes the oadrCreatedEvent in the HTTP response as if it had been
posted. Also: delivery is durable (VEN down, VTN restarted) and pull and push VENs are served side by side."""

from datetime import timedelta

import pytest

from mapping.oadr import model as m
from tests.conformance import assert_event, assert_ok_response, created_event, register, settle, stored_responses, wait_until
from tests.conformance.push_helpers import (  # noqa: F401 (fixtures)
    drained,
    push_config,
    push_endpoint_fixture,
    push_ven_endpoint,
    push_vtn_fixture,
    register_push,
)
from tests.support.vtn_harness import running_vtn


async def pushed_events(endpoint) -> tuple[m.Event, ...]:
    service, message = await endpoint.next(m.DistributeEvent)
    assert service == "EiEvent" and message.vtn_id == "CARIFLEX-VTN"
    return message.events


async def test_E0_6010_TH_VEN(vtn, endpoint):
    """E0_6010 (VTN Event - Empty, push). Ours: a registered push VEN with no events is pushed nothing on
    EiEvent (an empty distribution is only an answer to oadrRequestEvent)."""
    reg = await register_push(vtn, endpoint)
    await drained(vtn, reg.ven_id)
    await endpoint.nothing_more(0.8)


async def test_E0_6020_TH_VEN(vtn, endpoint):
    """E0_6020 (Electricity Price Event, push; mirrors E1_1020). Ours: the pushed event is the one a poll or
    oadrRequestEvent gives (same id, signal, status, responseRequired, modification); the oadrCreatedEvent
    in the HTTP response is stored as the VEN's optIn."""
    reg = await register_push(vtn, endpoint)
    event = await vtn.create_event(values=(0.25, 0.30), signal=("ELECTRICITY_PRICE", "price"))
    (got,) = await pushed_events(endpoint)
    assert_event(got, ("far", "near"), "always", 0)
    requested = await vtn.client.request_events(reg.ven_id)
    assert requested.events == (got,)
    assert got.signals[0].name == "ELECTRICITY_PRICE" and [i.value for i in got.signals[0].intervals] == [0.25, 0.30]
    await drained(vtn, reg.ven_id)
    assert [(v, n, o) for v, n, o, _c in await stored_responses(vtn, event.event_id)] == [(reg.ven_id, 0, "optIn")]


async def test_E0_6030_TH_VEN(vtn, endpoint):
    """E0_6030 (Two Dist Event Sequences, push; mirrors E1_1030): create, then modify: two pushes, the second
    with modificationNumber 1, each answered and stored."""
    reg = await register_push(vtn, endpoint)
    event = await vtn.create_event()
    (first,) = await pushed_events(endpoint)
    await vtn.modify_event(event.event_id, priority=3)
    (second,) = await pushed_events(endpoint)
    assert (first.modification_number, second.modification_number) == (0, 1)
    await drained(vtn, reg.ven_id)
    assert [n for _v, n, _o, _c in await stored_responses(vtn, event.event_id)] == [0, 1]


async def test_E0_6050_TH_VEN(vtn, endpoint):
    """E0_6050 (VEN use of oadrRequestEvent, push): a push VEN may still ask; the answer lists its events."""
    reg = await register_push(vtn, endpoint)
    event = await vtn.create_event()
    await pushed_events(endpoint)
    answer = await vtn.client.request_events(reg.ven_id)
    assert [e.event_id for e in answer.events] == [event.event_id]


async def test_E0_6065_TH_VEN(vtn, endpoint):
    """E0_6065 (VEN ignores oadrCreatedEvent, push): the VEN answers with an empty 200; the VTN, still owed an
    answer for a responseRequired=always event, pushes it again (after resend_unanswered) until it gets one."""
    reg = await register_push(vtn, endpoint)
    endpoint.answers["oadrDistributeEvent"] = lambda _msg: None
    event = await vtn.create_event()
    await pushed_events(endpoint)
    (again,) = await pushed_events(endpoint)
    assert again.event_id == event.event_id
    endpoint.answers.clear()
    await pushed_events(endpoint)
    await drained(vtn, reg.ven_id)
    assert [o for _v, _n, o, _c in await stored_responses(vtn, event.event_id)] == ["optIn"]


async def test_E0_6080_TH_VEN(vtn, endpoint):
    """E0_6080 (Case Sensitivity, push; mirrors E1_1080): an oadrCreatedEvent in the push answer naming the
    venID in another case is refused as it would be when posted (nothing stored, counted as a bad answer)."""
    reg = await register_push(vtn, endpoint)
    endpoint.ven_id = reg.ven_id.upper()
    event = await vtn.create_event()
    await pushed_events(endpoint)
    await drained(vtn, reg.ven_id)
    assert await stored_responses(vtn, event.event_id) == []
    assert vtn.process.pusher.counters.bad_answers >= 1


async def test_A_E2_0452_TH_VEN(vtn, endpoint):
    """A_E2_0452 (Event State Sequence, push): a status change is pushed: the event is pushed far, then
    again active when it starts (same modification), without any poll."""
    reg = await register_push(vtn, endpoint)
    await vtn.create_event(start_in=timedelta(seconds=2), interval=timedelta(minutes=5))
    (pending,) = await pushed_events(endpoint)
    assert pending.status in ("far", "near")
    await wait_until(vtn, pending.dtstart)
    (active,) = await pushed_events(endpoint)
    assert_event(active, "active", "always", 0)
    await drained(vtn, reg.ven_id)


async def test_A_E2_0525_TH_VEN(vtn, endpoint):
    """A_E2_0525 (Event Order, Cancellation, push): a cancellation is pushed (status cancelled, next
    modification) and answered."""
    reg = await register_push(vtn, endpoint)
    event = await vtn.create_event()
    await pushed_events(endpoint)
    await vtn.cancel_event(event.event_id)
    (gone,) = await pushed_events(endpoint)
    assert gone.status == "cancelled" and gone.modification_number == 1
    await drained(vtn, reg.ven_id)


async def test_A_E2_0657_TH_VEN(vtn, endpoint):
    """A_E2_0657 (VTN Cancel Retries, push): the VEN answers 503 for a while; the VTN retries the
    cancellation with back-off (attempts, retries and failures counted) and delivers it when the VEN answers."""
    reg = await register_push(vtn, endpoint)
    event = await vtn.create_event()
    await pushed_events(endpoint)
    await drained(vtn, reg.ven_id)
    endpoint.down_status = 503
    await vtn.cancel_event(event.event_id)
    for _ in range(100):
        if vtn.process.pusher.counters.failures >= 3:
            break
        await settle(vtn)
        await endpoint.nothing_more(0.05)
    counters = vtn.process.pusher.counters
    assert counters.failures >= 3 and counters.retries >= 2
    endpoint.down_status = None
    (gone,) = await pushed_events(endpoint)
    assert gone.status == "cancelled"
    await drained(vtn, reg.ven_id)
    assert [n for _v, n, _o, _c in await stored_responses(vtn, event.event_id)] == [0, 1]


def _created(ven_id: str, msg: m.DistributeEvent, *, code: int = 200, **changes: object) -> m.CreatedEvent:
    """The harness's oadrCreatedEvent for a pushed distribution, with `changes` to its eventResponse."""
    e = msg.events[0]
    fields = {"event_id": e.event_id, "modification_number": e.modification_number, **changes}
    answers = () if code != 200 else (m.EventResponse(200, "OK", msg.request_id, opt_type="optIn", **fields),)
    return m.CreatedEvent(m.EiResponse(code, "OK" if code == 200 else "ERROR", msg.request_id), ven_id, answers)


async def test_A_E2_0710_TH_VEN(vtn, endpoint):
    """A_E2_0710 (Application Error Code, push; mirrors A_E3_0710): the push answer is an oadrCreatedEvent with
    an error code and no eventResponses; it is taken (the push is delivered), nothing is stored as the VEN's
    opt, and the event is pushed again later for its missing answer."""
    reg = await register_push(vtn, endpoint)
    endpoint.answers["oadrDistributeEvent"] = lambda msg: _created(reg.ven_id, msg, code=400)
    event = await vtn.create_event()
    await pushed_events(endpoint)
    await drained(vtn, reg.ven_id)
    assert await stored_responses(vtn, event.event_id) == []
    (again,) = await pushed_events(endpoint)
    assert again.event_id == event.event_id


@pytest.mark.parametrize("changes", [{"event_id": "UnknownEventID"}, {"modification_number": 10}])
async def test_A_E2_0720_0730_TH_VEN(vtn, endpoint, changes):
    """A_E2_0720 (Mismatched eventID) and A_E2_0730 (Mismatched modificationNumber), push: an answer naming an
    unknown event or a modification that does not exist is refused (452, as if posted): nothing stored,
    counted as a bad answer."""
    reg = await register_push(vtn, endpoint)
    endpoint.answers["oadrDistributeEvent"] = lambda msg: _created(reg.ven_id, msg, **changes)
    event = await vtn.create_event()
    await pushed_events(endpoint)
    await drained(vtn, reg.ven_id)
    assert await stored_responses(vtn, event.event_id) == []
    assert vtn.process.pusher.counters.bad_answers >= 1


async def test_A_E2_0780_TH_VEN(vtn, endpoint):
    """A_E2_0780 (Unrecognized VEN ID, push): an answer for a venID the VTN does not know is refused
    (463 as if posted): nothing is stored, counted as a bad answer."""
    reg = await register_push(vtn, endpoint)
    endpoint.ven_id = "nobody"
    event = await vtn.create_event()
    await pushed_events(endpoint)
    await drained(vtn, reg.ven_id)
    assert await stored_responses(vtn, event.event_id) == []
    assert vtn.process.pusher.counters.bad_answers >= 1


async def test_G0_9020_TH_VEN(vtn, endpoint):
    """G0_9020 (Concurrent operation, push): a pull VEN and a push VEN get the same event, each its way."""
    push = await register_push(vtn, endpoint)
    pull = await register(vtn, "th-pull-ven")
    event = await vtn.create_event()
    (pushed,) = await pushed_events(endpoint)
    polled = await vtn.client.poll(pull.ven_id)
    assert isinstance(polled, m.DistributeEvent) and polled.events == (pushed,)
    await drained(vtn, push.ven_id)
    assert [v for v, _n, _o, _c in await stored_responses(vtn, event.event_id)] == [push.ven_id]
    assert_ok_response(await created_event(vtn, pull.ven_id, [(pushed, "optOut")]), pull.ven_id)
    assert_ok_response(await vtn.client.poll(pull.ven_id), pull.ven_id)
    assert {(v, o) for v, _n, o, _c in await stored_responses(vtn, event.event_id)} == {
        (push.ven_id, "optIn"),
        (pull.ven_id, "optOut"),
    }


async def test_push_survives_a_vtn_restart(db_url):
    """Nothing is lost across a VTN restart: the VEN is down, the VTN queues a request and makes an event,
    stops, starts again on the same store; when the VEN is back it is pushed both."""
    async with push_ven_endpoint() as endpoint:
        port = endpoint.server.port if endpoint.server else 0
        async with running_vtn(push_config(db_url)) as vtn:
            reg = await register_push(vtn, endpoint)
            await drained(vtn, reg.ven_id)
            await endpoint.close()
            event = await vtn.create_event()
            await vtn.queue(reg.ven_id, "request_reregistration")
        async with running_vtn(push_config(db_url)) as vtn:
            await endpoint.start(port)
            kinds = {type((await endpoint.next())[1]) for _ in range(2)}
            assert kinds == {m.RequestReregistration, m.DistributeEvent}
            await drained(vtn, reg.ven_id)
            assert [v for v, _n, _o, _c in await stored_responses(vtn, event.event_id)] == [reg.ven_id]
