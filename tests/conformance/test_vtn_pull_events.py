"""Event conformance of our VTN in pull mode: OpenADR 2.0b certification cases E1_1010…E1_1080, the
2.0a-derived VTN pull cases A_E3_0420…A_E3_0780, G1_4011 and the event part of G1_4020, with the test harness
playing the VEN (TH_VEN). Our VTN is the device under test; `vtn.client` plays the harness VEN.

The harness's operator prompts ("configure the VTN so that there is a single pending event …") are
done through the same store API the CLI uses (`vtn.create_event`, `modify`,
`vtn.cancel_event`). Times are scaled down from minutes to seconds where the case waits for a
status change. The harness's check on every received oadrEvent — eventStatus (P = far or near,
A = active, C = cancelled), oadrResponseRequired and modificationNumber — is `assert_event`.
Cases not covered (reports, push, TLS, …) and the defects these cases found (all fixed) are listed in
docs/conformance.md.
"""

from dataclasses import replace
from datetime import timedelta

import pytest

from mapping.oadr import model as m
from mapping.oadr import report_model as r
from tests.conformance import (
    PENDING,
    assert_event,
    assert_ok_response,
    created_event,
    draft,
    lengthen_first_interval,
    lengthen_last_interval,
    modify,
    register,
    store_event,
    stored_responses,
    wait_until,
)
from tests.support.vtn_harness import PROGRAM, running_vtn
from tests.support.vtn_harness import config_for_tests as make_config
from vtn.admin import events as event_admin
from vtn.admin.events import EventRefused
from vtn.config import ProgramConfig
from vtn.store import report_repository

MARKET_CONTEXT_2 = "http://cariflex.mq/programs/second"


@pytest.fixture
async def vtn2(db_url):
    """Our VTN with two programs (market contexts), on each store backend."""
    programs = (ProgramConfig("test", PROGRAM, "Test program"), ProgramConfig("second", MARKET_CONTEXT_2, "Second program"))
    async with running_vtn(make_config(db_url, programs=programs)) as running:
        yield running


async def poll_distribute(vtn, ven_id: str) -> m.DistributeEvent:
    reply = await vtn.client.poll(ven_id)
    assert isinstance(reply, m.DistributeEvent), reply
    return reply


async def only_event(vtn, ven_id: str) -> m.Event:
    """Poll; the answer must be an oadrDistributeEvent with exactly one event."""
    reply = await poll_distribute(vtn, ven_id)
    assert len(reply.events) == 1, reply.events
    return reply.events[0]


# --- E1_*: 2.0b event cases -------------------------------------------------------------------


async def test_E1_1010_TH_VEN(vtn):
    """E1_1010 (VTN Event - Empty). Certification: the operator causes the VTN to send an empty
    oadrDistributeEvent if it can; the VEN polls and must get a valid oadrDistributeEvent or
    oadrResponse. Ours: with no events a poll gets oadrResponse 200; the VTN does send an empty
    (schema-valid) oadrDistributeEvent when the last event a VEN holds drops out (it completed),
    then goes back to oadrResponse."""
    reg = await register(vtn, "site-a")
    assert_ok_response(await vtn.client.poll(reg.ven_id), reg.ven_id)

    # dtstart goes out in whole seconds (so it lands up to 1 s earlier); durations are whole seconds
    event = await vtn.create_event(start_in=timedelta(seconds=-0.5), interval=timedelta(seconds=2))
    held = await only_event(vtn, reg.ven_id)
    assert held.event_id == event.event_id and held.status == "active"
    await wait_until(vtn, event.dtstart + event.duration)
    empty = await poll_distribute(vtn, reg.ven_id)
    assert empty.events == ()
    assert empty.vtn_id == vtn.ctx.config.vtn_id
    assert_ok_response(await vtn.client.poll(reg.ven_id), reg.ven_id)


async def test_E1_1020_TH_VEN(vtn):
    """E1_1020 (VTN Event - Electricity Price Event). Certification: one pending event (dtstart in 10
    minutes, one 5-minute interval, two resources); the VEN polls, must receive an
    oadrDistributeEvent whose signal is ELECTRICITY_PRICE, and answers oadrCreatedEvent optIn.
    Ours: the VEN owning one of the two targeted resources gets the event with both resourceIDs in
    eiTarget, ELECTRICITY_PRICE/price in currencyPerKWh; its optIn gets oadrResponse 200 and is
    stored; a VEN owning neither resource is not given the event."""
    reg = await register(vtn, "site-res")
    other = await register(vtn, "site-a")
    event = await vtn.create_event(
        signal=("ELECTRICITY_PRICE", "price"),
        values=(3.14,),
        interval=timedelta(minutes=5),
        target=m.Target(resource_ids=("site-res-battery", "site-res-pv")),
    )
    got = await only_event(vtn, reg.ven_id)
    assert got.event_id == event.event_id
    assert_event(got, PENDING, "always", 0)
    assert [(s.name, s.type) for s in got.signals] == [("ELECTRICITY_PRICE", "price")]
    assert got.signals[0].unit is not None and got.signals[0].unit.kind == "currencyPerKWh"
    assert set(got.target.resource_ids) == {"site-res-battery", "site-res-pv"}
    assert_ok_response(await created_event(vtn, reg.ven_id, [(got, "optIn")]), reg.ven_id)
    assert await stored_responses(vtn, event.event_id) == [(reg.ven_id, 0, "optIn", 200)]
    assert_ok_response(await vtn.client.poll(other.ven_id), other.ven_id)


async def test_E1_1025_TH_VEN(vtn):
    """E1_1025 (VTN Event - Load Dispatch Event). Certification: one pending event in one minute,
    LOAD_DISPATCH, signalType setpoint, units powerReal, one 5-minute interval of 40; the VEN polls,
    must receive a LOAD_DISPATCH signal, answers optIn. Ours: exactly that signal (setpoint,
    powerReal, payload 40) and the optIn is accepted (200)."""
    reg = await register(vtn, "site-a")
    await vtn.create_event(
        signal=("LOAD_DISPATCH", "setpoint"), values=(40,), interval=timedelta(minutes=5), start_in=timedelta(minutes=1)
    )
    got = await only_event(vtn, reg.ven_id)
    signal = got.signals[0]
    assert (signal.name, signal.type) == ("LOAD_DISPATCH", "setpoint")
    assert signal.unit is not None and signal.unit.kind == "powerReal"
    assert [i.value for i in signal.intervals] == [40]
    assert got.duration == timedelta(minutes=5)
    assert_ok_response(await created_event(vtn, reg.ven_id, [(got, "optIn")]), reg.ven_id)


async def test_E1_1027_TH_VEN(vtn):
    """E1_1027 (VTN Event - Event with Baseline). Certification: one pending event in 10 minutes,
    ELECTRICITY_PRICE/price in currencyPerKWh, two 1-hour intervals (3.14, 3.17), two resources,
    with an eiEventBaseline starting one day earlier (3.05, 3.08); the VEN polls, receives an
    ELECTRICITY_PRICE event and opts in. Ours: the event arrives with its signal and its baseline
    intact (two 1-hour intervals, values, start a day back) and the optIn gets 200."""
    reg = await register(vtn, "site-res")
    now = vtn.ctx.now()
    event = draft(
        vtn,
        market_context=PROGRAM,
        signal=("ELECTRICITY_PRICE", "price"),
        values=(3.14, 3.17),
        interval=timedelta(hours=1),
        target=m.Target(resource_ids=("site-res-battery", "site-res-pv")),
    )
    baseline = replace(
        event.signals[0],
        name="ELECTRICITY_PRICE",
        signal_id="baseline",
        intervals=(
            m.Interval(duration=timedelta(hours=1), value=3.05, uid=0, dtstart=now - timedelta(days=1)),
            m.Interval(duration=timedelta(hours=1), value=3.08, uid=1),
        ),
    )
    await store_event(vtn, replace(event, baseline=baseline))
    got = await only_event(vtn, reg.ven_id)
    assert got.signals[0].name == "ELECTRICITY_PRICE"
    assert [i.value for i in got.signals[0].intervals] == [3.14, 3.17]
    assert got.baseline is not None
    assert [(i.duration, i.value) for i in got.baseline.intervals] == [(timedelta(hours=1), 3.05), (timedelta(hours=1), 3.08)]
    assert got.baseline.intervals[0].dtstart is not None
    assert abs(got.baseline.intervals[0].dtstart - (now - timedelta(days=1))) < timedelta(seconds=1)
    assert_ok_response(await created_event(vtn, reg.ven_id, [(got, "optIn")]), reg.ven_id)


async def test_E1_1030_TH_VEN(vtn):
    """E1_1030 (VTN Event - Two Dist Event Sequences). Certification: the VEN polls and opts in to a
    pending ELECTRICITY_PRICE event; the operator lengthens its first interval by 10 minutes; the
    VEN polls again, must receive the modified event, and opts in again. Ours: the second poll
    carries modificationNumber 1 with the 15-minute interval and event duration; both optIns are
    accepted and stored per modification."""
    reg = await register(vtn, "site-res")
    event = await vtn.create_event(
        signal=("ELECTRICITY_PRICE", "price"),
        values=(3.14,),
        interval=timedelta(minutes=5),
        target=m.Target(resource_ids=("site-res-battery", "site-res-pv")),
    )
    first = await only_event(vtn, reg.ven_id)
    assert_ok_response(await created_event(vtn, reg.ven_id, [(first, "optIn")]), reg.ven_id)

    await modify(vtn, event.event_id, signals=lengthen_first_interval(event, timedelta(minutes=10)))
    second = await only_event(vtn, reg.ven_id)
    assert second.event_id == event.event_id
    assert_event(second, PENDING, "always", 1)
    assert second.signals[0].name == "ELECTRICITY_PRICE"
    assert second.signals[0].intervals[0].duration == timedelta(minutes=15)
    assert second.duration == timedelta(minutes=15)
    assert_ok_response(await created_event(vtn, reg.ven_id, [(second, "optIn")]), reg.ven_id)
    assert await stored_responses(vtn, event.event_id) == [(reg.ven_id, 0, "optIn", 200), (reg.ven_id, 1, "optIn", 200)]


async def test_E1_1040_TH_VEN(vtn):
    """E1_1040 (VTN Event - x Created Events, Mixed Simple/Complex). Certification: two pending
    events — SIMPLE (in 1 minute, payload 2) and ELECTRICITY_PRICE (in 10 minutes, payload 3.13); the
    VEN polls, must get both in one oadrDistributeEvent, and answers each in a separate
    oadrCreatedEvent. Ours: both events in one payload, in start order (SIMPLE first); each partial
    oadrCreatedEvent gets 200 and both answers are stored."""
    reg = await register(vtn, "site-a")
    simple = await vtn.create_event(values=(2,), interval=timedelta(minutes=5), start_in=timedelta(minutes=1))
    price = await vtn.create_event(
        signal=("ELECTRICITY_PRICE", "price"), values=(3.13,), interval=timedelta(minutes=5), start_in=timedelta(minutes=10)
    )
    reply = await poll_distribute(vtn, reg.ven_id)
    assert [e.signals[0].name for e in reply.events] == ["SIMPLE", "ELECTRICITY_PRICE"]
    assert [e.event_id for e in reply.events] == [simple.event_id, price.event_id]
    assert_ok_response(await created_event(vtn, reg.ven_id, [(reply.events[1], "optIn")]), reg.ven_id)
    assert_ok_response(await created_event(vtn, reg.ven_id, [(reply.events[0], "optIn")]), reg.ven_id)
    assert await stored_responses(vtn, simple.event_id) == [(reg.ven_id, 0, "optIn", 200)]
    assert await stored_responses(vtn, price.event_id) == [(reg.ven_id, 0, "optIn", 200)]


async def test_E1_1050_TH_VEN(vtn):
    """E1_1050 (VEN Event - Use of oadrRequestEvent). Certification: with a pending event, the VEN
    sends oadrRequestEvent, must receive oadrDistributeEvent, answers oadrCreatedEvent and must get
    oadrResponse. Ours: the oadrDistributeEvent carries eiResponse 200 echoing the requestID, the
    vtnID and the event; the oadrCreatedEvent gets oadrResponse 200."""
    reg = await register(vtn, "site-a")
    event = await vtn.create_event(interval=timedelta(minutes=5))
    reply = await vtn.client.request_events(reg.ven_id)
    assert reply.response is not None and reply.response.code == 200 and reply.response.request_id == "req-events"
    assert reply.vtn_id == vtn.ctx.config.vtn_id
    assert [e.event_id for e in reply.events] == [event.event_id]
    assert_ok_response(await created_event(vtn, reg.ven_id, [(reply.events[0], "optIn")]), reg.ven_id)


def create_opt(vtn, ven_id: str, event: m.Event, opt_type: str, opt_id: str, resource_ids: tuple[str, ...] = ()) -> r.CreateOpt:
    """oadrCreateOpt on one event, as the harness builds it: reason "participating", the program's
    market context, a 5-minute availability window, optionally targeting some of the event's resources."""
    now = vtn.ctx.now()
    return r.CreateOpt(
        opt_id=opt_id,
        opt_type=opt_type,
        opt_reason="participating",
        ven_id=ven_id,
        created=now,
        request_id=f"req-{opt_id}",
        market_context=PROGRAM,
        windows=((now, timedelta(minutes=5)),),
        event_id=event.event_id,
        modification_number=event.modification_number,
        target=m.Target(resource_ids=resource_ids),
    )


async def send_opt(vtn, opt: r.CreateOpt) -> None:
    """Send oadrCreateOpt; the answer must be oadrCreatedOpt 200 echoing the requestID and optID."""
    reply = await vtn.client.send("EiOpt", opt)
    assert isinstance(reply, m.Acknowledgement) and reply.name == "oadrCreatedOpt", reply
    assert reply.response.code == 200 and reply.response.request_id == opt.request_id, reply.response
    assert reply.opt_id == opt.opt_id


async def opts_of(vtn, ven_id: str) -> list[tuple[str, str, str | None, bool]]:
    """(optID, optType, eventID, active) of a VEN's stored opts."""
    rows = await vtn.ctx.store.call(report_repository.list_opts, ven_id)
    return sorted((o["opt_id"], o["opt_type"], o["event_id"], o["cancelled_at"] is None) for o in rows)


async def _two_resource_event(vtn) -> tuple[m.CreatedPartyRegistration, m.Event]:
    """Prompt_010: one pending ELECTRICITY_PRICE event (in 10 minutes, 5 minutes) with two resources,
    polled by the VEN (which must see both resourceIDs) and opted in to with oadrCreatedEvent."""
    reg = await register(vtn, "site-res")
    await vtn.create_event(
        signal=("ELECTRICITY_PRICE", "price"),
        values=(3.14,),
        interval=timedelta(minutes=5),
        target=m.Target(resource_ids=("site-res-battery", "site-res-pv")),
    )
    got = await only_event(vtn, reg.ven_id)
    assert got.signals[0].name == "ELECTRICITY_PRICE"
    assert len(got.target.resource_ids) == 2
    assert_ok_response(await created_event(vtn, reg.ven_id, [(got, "optIn")]), reg.ven_id)
    return reg, got


async def test_E1_1060_TH_VEN(vtn):
    """E1_1060 (VEN CreateOpt Qualification). Certification: the VEN polls a pending ELECTRICITY_PRICE
    event with two resourceIDs, answers oadrCreatedEvent (oadrResponse expected), then sends an
    oadrCreateOpt optOut qualified by the event's ID; the VTN must answer oadrCreatedOpt. Ours:
    oadrCreatedOpt 200 echoing requestID and optID, and the opt is stored against the event."""
    reg, got = await _two_resource_event(vtn)
    await send_opt(vtn, create_opt(vtn, reg.ven_id, got, "optOut", "opt-1060"))
    assert await opts_of(vtn, reg.ven_id) == [("opt-1060", "optOut", got.event_id, True)]


async def test_E1_1065_TH_VEN(vtn):
    """E1_1065 (VEN Ignore oadrCreatedEvent). Certification: the VEN polls and opts in (oadrCreatedEvent)
    to a pending event with two resources, sends oadrCreateOpt optIn for the second resource, then an
    oadrCreatedEvent optOut; the operator must confirm that the VTN ignored that optOut and still shows
    the VEN opted in. Ours, the exchange only: oadrCreatedOpt 200, the later oadrCreatedEvent is
    answered 200, and the opt stays active. Whether the VTN then counts the VEN as opted in is not
    covered: the VTN keeps opts and oadrCreatedEvent answers side by side with no rule for which one
    wins (see docs/conformance.md)."""
    reg, got = await _two_resource_event(vtn)
    resource = got.target.resource_ids[1]
    await send_opt(vtn, create_opt(vtn, reg.ven_id, got, "optIn", "opt-1065", (resource,)))
    assert_ok_response(await created_event(vtn, reg.ven_id, [(got, "optOut")]), reg.ven_id)
    assert await opts_of(vtn, reg.ven_id) == [("opt-1065", "optIn", got.event_id, True)]
    assert await stored_responses(vtn, got.event_id) == [(reg.ven_id, 0, "optIn", 200), (reg.ven_id, 0, "optOut", 200)]


async def test_E1_1070_TH_VEN(vtn):
    """E1_1070 (VTN Event - Negative Test, Custom Event Signal). Certification (run against the
    harness's own VTN in self test; a real VTN is not required to send custom signals): the VEN
    polls, receives a signal named x-CUSTOM_SIGNAL and answers oadrCreatedEvent with eiResponse 200
    and an eventResponse 460 (signal not supported). Ours: the VTN can send an x- signal
    (schema-valid), accepts the 460/optOut answer with oadrResponse 200 and stores it as given."""
    reg = await register(vtn, "site-a")
    event = await vtn.create_event(signal=("x-CUSTOM_SIGNAL", "level"), values=(1,))
    got = await only_event(vtn, reg.ven_id)
    assert got.signals[0].name == "x-CUSTOM_SIGNAL"
    assert_ok_response(await created_event(vtn, reg.ven_id, [(got, "optOut", 460)]), reg.ven_id)
    assert await stored_responses(vtn, event.event_id) == [(reg.ven_id, 0, "optOut", 460)]


async def test_E1_1080_TH_VEN(vtn):
    """E1_1080 (VTN/VEN Event - Negative Test, Case Sensitivity). Certification, real-device branch:
    the VEN polls a SIMPLE event, then answers oadrCreatedEvent with its venID in swapped case; the
    VTN must treat ids as case-sensitive and answer oadrResponse 452. Ours: the answer must be an
    oadrResponse with 452 and nothing may be stored for the event."""
    reg = await register(vtn, "site-a")
    event = await vtn.create_event(values=(2,), interval=timedelta(minutes=5), start_in=timedelta(minutes=1))
    got = await only_event(vtn, reg.ven_id)
    swapped = reg.ven_id.swapcase()
    assert swapped != reg.ven_id
    reply = await created_event(vtn, swapped, [(got, "optIn")])
    assert isinstance(reply, m.Response), reply
    assert reply.response.code == 452, reply.response
    assert await stored_responses(vtn, event.event_id) == []


# --- A_E3_*: 2.0a-derived VTN pull cases ---------------------------------------------------------


async def test_A_E3_0420_TH_VEN(vtn):
    """A_E3_0420 (Confirm eventStatus active). Certification: one event starting in a minute (one
    5-minute interval, response always); after it has started the VEN sends oadrRequestEvent, must
    get exactly that event with eventStatus active, modificationNumber 0, response required always,
    and its oadrCreatedEvent must get 200. Ours: the same, the event going active on its own clock."""
    reg = await register(vtn, "site-a")
    event = await vtn.create_event(start_in=timedelta(seconds=0.3), interval=timedelta(minutes=5))
    await wait_until(vtn, event.dtstart)
    reply = await vtn.client.request_events(reg.ven_id)
    assert len(reply.events) == 1
    assert_event(reply.events[0], "active", "always", 0)
    assert_ok_response(await created_event(vtn, reg.ven_id, [(reply.events[0], "optIn")]), reg.ven_id)


async def test_A_E3_0430_TH_VEN(vtn):
    """A_E3_0430 (OptIn optional elements). Certification: one pending event (in 2 minutes, 5-minute
    interval); the VEN polls and answers an oadrCreatedEvent carrying the optional elements
    (modificationNumber, responseDescription); the VTN must answer 200. Ours: P/always/0 and the
    answer with optional elements gets oadrResponse 200 echoing the requestID."""
    reg = await register(vtn, "site-a")
    await vtn.create_event(start_in=timedelta(minutes=2), interval=timedelta(minutes=5))
    got = await only_event(vtn, reg.ven_id)
    assert_event(got, PENDING, "always", 0)
    reply = await created_event(vtn, reg.ven_id, [(got, "optIn")], request_id="req-0430", description="Response Description")
    assert_ok_response(reply, reg.ven_id)
    assert reply.response.request_id == "req-0430"


async def test_A_E3_0432_TH_VEN(vtn):
    """A_E3_0432 (Optional Elements). Certification: one pending event (in 2 minutes, three 5-minute
    intervals) with x-eiRecovery, x-eiRampUp and startafter of 1 minute each where the VTN supports
    them; the VEN polls, must get one event with three intervals (P/always/0), and its optIn gets
    200. Ours: all three optional elements are configurable and arrive with their values."""
    reg = await register(vtn, "site-a")
    minute = timedelta(minutes=1)
    await vtn.create_event(
        values=(1, 2, 3),
        interval=timedelta(minutes=5),
        start_in=timedelta(minutes=2),
        recovery=minute,
        ramp_up=minute,
        start_after=minute,
    )
    got = await only_event(vtn, reg.ven_id)
    assert len(got.signals[0].intervals) == 3
    assert (got.recovery, got.ramp_up, got.start_after) == (minute, minute, minute)
    assert_event(got, PENDING, "always", 0)
    assert_ok_response(await created_event(vtn, reg.ven_id, [(got, "optIn")]), reg.ven_id)


@pytest.mark.parametrize("kind", ["venID", "groupID", "resourceID"])
async def test_A_E3_0435_TH_VEN(vtn, kind):
    """A_E3_0435 (eiTarget Configuration). Certification: one pending event whose eiTarget names the
    harness VEN (resourceID or venID from the harness configuration); the VEN polls, the event must
    carry at least one target element matching the VEN, and its optIn gets 200. Ours, for each
    target kind we serve (venID, groupID via config group "north", resourceID via config resource
    "site-res-battery"): the matching VEN gets the event with that eiTarget; a VEN not named by the
    target gets nothing."""
    name = {"venID": "site-a", "groupID": "site-north", "resourceID": "site-res"}[kind]
    reg = await register(vtn, name)
    bystander = await register(vtn, "site-other")
    target = {
        "venID": m.Target(ven_ids=(reg.ven_id,)),
        "groupID": m.Target(group_ids=("north",)),
        "resourceID": m.Target(resource_ids=("site-res-battery",)),
    }[kind]
    await vtn.create_event(start_in=timedelta(minutes=1), interval=timedelta(minutes=5), target=target)
    got = await only_event(vtn, reg.ven_id)
    assert got.target == target
    assert_event(got, PENDING, "always", 0)
    assert_ok_response(await created_event(vtn, reg.ven_id, [(got, "optIn")]), reg.ven_id)
    assert_ok_response(await vtn.client.poll(bystander.ven_id), bystander.ven_id)


async def two_pending(vtn, ven_id: str) -> tuple[m.Event, m.Event]:
    """Two non-overlapping 1-hour pending events 4 hours apart, polled in one oadrDistributeEvent."""
    await vtn.create_event(start_in=timedelta(hours=1), interval=timedelta(hours=1))
    await vtn.create_event(start_in=timedelta(hours=5), interval=timedelta(hours=1))
    reply = await poll_distribute(vtn, ven_id)
    assert len(reply.events) == 2
    for event in reply.events:
        assert_event(event, PENDING, "always", 0)
    return reply.events[0], reply.events[1]


async def test_A_E3_0440_TH_VEN(vtn):
    """A_E3_0440 (OptOut/In one oadrCreatedEvent). Certification: two pending events; the VEN polls
    both and answers one oadrCreatedEvent opting in to the first and out of the second; the VTN
    must answer 200. Ours: 200, and each event's answer is stored as given."""
    reg = await register(vtn, "site-a")
    first, second = await two_pending(vtn, reg.ven_id)
    assert_ok_response(await created_event(vtn, reg.ven_id, [(first, "optIn"), (second, "optOut")]), reg.ven_id)
    assert await stored_responses(vtn, first.event_id) == [(reg.ven_id, 0, "optIn", 200)]
    assert await stored_responses(vtn, second.event_id) == [(reg.ven_id, 0, "optOut", 200)]


async def test_A_E3_0450_TH_VEN(vtn):
    """A_E3_0450 (OptOut/In two oadrCreatedEvent). Certification: as A_E3_0440 but the optIn and the
    optOut go in two separate oadrCreatedEvent payloads; both must get 200. Ours: both 200, both stored."""
    reg = await register(vtn, "site-a")
    first, second = await two_pending(vtn, reg.ven_id)
    assert_ok_response(await created_event(vtn, reg.ven_id, [(first, "optIn")]), reg.ven_id)
    assert_ok_response(await created_event(vtn, reg.ven_id, [(second, "optOut")]), reg.ven_id)
    assert await stored_responses(vtn, first.event_id) == [(reg.ven_id, 0, "optIn", 200)]
    assert await stored_responses(vtn, second.event_id) == [(reg.ven_id, 0, "optOut", 200)]


async def _pending_then_answer(vtn, opt: str) -> None:
    """Shared body of A_E3_0452/0454: a pending event polled, answered with `opt`."""
    reg = await register(vtn, "site-a")
    event = await vtn.create_event(start_in=timedelta(minutes=5), interval=timedelta(minutes=5))
    got = await only_event(vtn, reg.ven_id)
    assert_event(got, PENDING, "always", 0)
    assert_ok_response(await created_event(vtn, reg.ven_id, [(got, opt)]), reg.ven_id)
    assert await stored_responses(vtn, event.event_id) == [(reg.ven_id, 0, opt, 200)]
    assert_ok_response(await vtn.client.poll(reg.ven_id), reg.ven_id)


async def test_A_E3_0452_TH_VEN(vtn):
    """A_E3_0452 (Event State Sequence P0ANI: pending, modification 0, response Always, No change,
    optIn). Certification: one pending event (in 5 minutes, 5-minute interval); the VEN polls, must
    get it P/always/0, opts in and must get 200. Ours: the same, the optIn is stored and the next
    poll has nothing new (oadrResponse 200)."""
    await _pending_then_answer(vtn, "optIn")


async def test_A_E3_0454_TH_VEN(vtn):
    """A_E3_0454 (Event State Sequence P0AYI). Certification: as A_E3_0452 but the VEN answers
    optOut; the VTN must still answer 200. Ours: 200 and the optOut is stored."""
    await _pending_then_answer(vtn, "optOut")


async def test_A_E3_0468_TH_VEN(vtn):
    """A_E3_0468 (Event State Sequence P0NNN). Certification: one pending event configured with
    oadrResponseRequired never; the VEN polls and must get it P/never/0 (and sends no
    oadrCreatedEvent). Ours: P/never/0, and the VTN does not wait for an answer: the next poll has
    nothing new (oadrResponse 200)."""
    reg = await register(vtn, "site-a")
    await vtn.create_event(start_in=timedelta(minutes=5), interval=timedelta(minutes=5), response_required="never")
    got = await only_event(vtn, reg.ven_id)
    assert_event(got, PENDING, "never", 0)
    assert_ok_response(await vtn.client.poll(reg.ven_id), reg.ven_id)


async def _modified_pending(vtn, second_opt: str | None, response_required: str = "always") -> None:
    """P0 → VEN opts in → start moved 1 minute later → P1 (→ VEN answers `second_opt`)."""
    reg = await register(vtn, "site-a")
    event = await vtn.create_event(start_in=timedelta(minutes=5), interval=timedelta(minutes=5))
    first = await only_event(vtn, reg.ven_id)
    assert_event(first, PENDING, "always", 0)
    assert_ok_response(await created_event(vtn, reg.ven_id, [(first, "optIn")]), reg.ven_id)

    changes: dict[str, object] = {"dtstart": event.dtstart + timedelta(minutes=1)}
    if response_required != "always":
        changes["response_required"] = response_required
    await modify(vtn, event.event_id, **changes)
    second = await only_event(vtn, reg.ven_id)
    assert_event(second, PENDING, response_required, 1)
    assert abs(second.dtstart - (event.dtstart + timedelta(minutes=1))) < timedelta(milliseconds=1)  # sent in ms
    if second_opt is not None:
        assert_ok_response(await created_event(vtn, reg.ven_id, [(second, second_opt)]), reg.ven_id)
        assert await stored_responses(vtn, event.event_id) == [(reg.ven_id, 0, "optIn", 200), (reg.ven_id, 1, second_opt, 200)]


async def test_A_E3_0470_TH_VEN(vtn):
    """A_E3_0470 (Event State Sequence P1ANI). Certification: the VEN polls and opts in to a pending
    event; the operator moves its start 1 minute later; the VEN polls, must get it P/always/1, opts
    in and must get 200. Ours: the same; both answers stored per modification."""
    await _modified_pending(vtn, "optIn")


async def test_A_E3_0474_TH_VEN(vtn):
    """A_E3_0474 (Event State Sequence P1ANO). Certification: as A_E3_0470 but the VEN opts out of
    the modified event; 200 expected. Ours: 200, optIn for modification 0 and optOut for 1 stored."""
    await _modified_pending(vtn, "optOut")


async def test_A_E3_0480_TH_VEN(vtn):
    """A_E3_0480 (Event State Sequence P1NNN). Certification: as A_E3_0470 but the modification also
    sets oadrResponseRequired to never; the VEN must get it P/never/1. Ours: the same."""
    await _modified_pending(vtn, None, response_required="never")


async def test_A_E3_0484_TH_VEN(vtn):
    """A_E3_0484 (Event State Sequence A0ANI). Certification: one active event (started a minute ago,
    5-minute interval); the VEN polls, must get it active/always/0, opts in and must get 200.
    Ours: the same."""
    reg = await register(vtn, "site-a")
    await vtn.create_event(start_in=timedelta(minutes=-1), interval=timedelta(minutes=5))
    got = await only_event(vtn, reg.ven_id)
    assert_event(got, "active", "always", 0)
    assert_ok_response(await created_event(vtn, reg.ven_id, [(got, "optIn")]), reg.ven_id)


async def test_A_E3_0490_TH_VEN(vtn):
    """A_E3_0490 (Event State Sequence A1ANO). Certification: the VEN polls and opts in to an active
    event; the operator extends the event (and its last interval) by one minute; the VEN polls, must
    get it active/always/1, opts out and must get 200. Ours: the same, with the 6-minute duration."""
    reg = await register(vtn, "site-a")
    event = await vtn.create_event(start_in=timedelta(minutes=-1), interval=timedelta(minutes=5))
    first = await only_event(vtn, reg.ven_id)
    assert_event(first, "active", "always", 0)
    assert_ok_response(await created_event(vtn, reg.ven_id, [(first, "optIn")]), reg.ven_id)

    await modify(vtn, event.event_id, signals=lengthen_last_interval(event, timedelta(minutes=1)))
    second = await only_event(vtn, reg.ven_id)
    assert_event(second, "active", "always", 1)
    assert second.duration == timedelta(minutes=6)
    assert second.signals[0].intervals[-1].duration == timedelta(minutes=6)
    assert_ok_response(await created_event(vtn, reg.ven_id, [(second, "optOut")]), reg.ven_id)


async def _cancelled(vtn, start_in: timedelta, first_status: str | tuple[str, ...], second_opt: str) -> None:
    reg = await register(vtn, "site-a")
    event = await vtn.create_event(start_in=start_in, interval=timedelta(minutes=5))
    first = await only_event(vtn, reg.ven_id)
    assert_event(first, first_status, "always", 0)
    assert_ok_response(await created_event(vtn, reg.ven_id, [(first, "optIn")]), reg.ven_id)

    await vtn.cancel_event(event.event_id)
    second = await only_event(vtn, reg.ven_id)
    assert second.event_id == event.event_id
    assert_event(second, "cancelled", "always", 1)
    assert_ok_response(await created_event(vtn, reg.ven_id, [(second, second_opt)]), reg.ven_id)
    assert await stored_responses(vtn, event.event_id) == [(reg.ven_id, 0, "optIn", 200), (reg.ven_id, 1, second_opt, 200)]
    # design: a cancelled event stays listed (cancelled, modification 1) until its window ends
    listed = await vtn.client.request_events(reg.ven_id)
    assert [(e.event_id, e.status, e.modification_number) for e in listed.events] == [(event.event_id, "cancelled", 1)]


async def test_A_E3_0492_TH_VEN(vtn):
    """A_E3_0492 (Event State Sequence CP1ANI). Certification: the VEN polls and opts in to a pending
    event; the operator cancels it; the VEN polls, must get it cancelled/always/1, opts in and must
    get 200. Ours: the same; oadrRequestEvent still lists the cancelled event afterwards."""
    await _cancelled(vtn, timedelta(minutes=5), PENDING, "optIn")


async def test_A_E3_0494_TH_VEN(vtn):
    """A_E3_0494 (Event State Sequence CA1AN). Certification: as A_E3_0492 for an active event
    (started a minute ago): active/always/0, then cancelled/always/1, answer 200. Ours: the same."""
    await _cancelled(vtn, timedelta(minutes=-1), "active", "optIn")


async def test_A_E3_0496_TH_VEN(vtn):
    """A_E3_0496 (Event State Sequence CP1ANO). Certification: as A_E3_0492 but the VEN opts out of
    the cancelled event; 200 expected. Ours: the same."""
    await _cancelled(vtn, timedelta(minutes=5), PENDING, "optOut")


async def test_A_E3_0498_TH_VEN(vtn):
    """A_E3_0498 (Event State Sequence CP1NNN). Certification: the VEN polls and opts in to a pending
    event (always, modification 0); the operator cancels it and switches oadrResponseRequired to never;
    the VEN polls and must get it cancelled/never/1, and sends no oadrCreatedEvent. Ours: the same (the
    cancellation through the admin function `cariflex event cancel --response-required never` calls);
    the VTN does not hand the unanswered cancellation out again (the next poll is oadrResponse 200), and
    oadrRequestEvent still lists it, cancelled/never/1."""
    reg = await register(vtn, "site-a")
    event = await vtn.create_event(start_in=timedelta(minutes=5), interval=timedelta(minutes=5))
    first = await only_event(vtn, reg.ven_id)
    assert_event(first, PENDING, "always", 0)
    assert_ok_response(await created_event(vtn, reg.ven_id, [(first, "optIn")]), reg.ven_id)

    await vtn.admin(event_admin.cancel_event, event.event_id, vtn.ctx.now(), actor="test", response_required="never")
    second = await only_event(vtn, reg.ven_id)
    assert second.event_id == event.event_id
    assert_event(second, "cancelled", "never", 1)
    assert_ok_response(await vtn.client.poll(reg.ven_id), reg.ven_id)  # no answer needed: not sent again
    listed = await vtn.client.request_events(reg.ven_id)
    assert [(e.event_id, e.status, e.response_required, e.modification_number) for e in listed.events] == [
        (event.event_id, "cancelled", "never", 1)
    ]
    assert await stored_responses(vtn, event.event_id) == [(reg.ven_id, 0, "optIn", 200)]


async def test_A_E3_0500_TH_VEN(vtn):
    """A_E3_0500 (Async Opt Out). Certification: one pending event (in 2 minutes); the VEN polls, opts
    in (oadrCreatedEvent), then opts out of the same event in a second oadrCreatedEvent; both must get
    200. Ours: both 200; both answers are stored in order, the optOut being the latest."""
    reg = await register(vtn, "site-a")
    event = await vtn.create_event(start_in=timedelta(minutes=2), interval=timedelta(minutes=5))
    got = await only_event(vtn, reg.ven_id)
    assert_event(got, PENDING, "always", 0)
    assert_ok_response(await created_event(vtn, reg.ven_id, [(got, "optIn")]), reg.ven_id)
    assert_ok_response(await created_event(vtn, reg.ven_id, [(got, "optOut")]), reg.ven_id)
    assert await stored_responses(vtn, event.event_id) == [(reg.ven_id, 0, "optIn", 200), (reg.ven_id, 0, "optOut", 200)]


async def _four_events(vtn2, specs: list[tuple[str, timedelta, timedelta, int]]) -> dict[str, m.Event]:
    events = {}
    for label, start_in, duration, priority in specs:
        market_context = PROGRAM if label.startswith("mc1") else MARKET_CONTEXT_2
        events[label] = await store_event(
            vtn2, draft(vtn2, market_context=market_context, start_in=start_in, interval=duration, priority=priority)
        )
    return events


async def test_A_E3_0510_TH_VEN(vtn2):
    """A_E3_0510 (Event Ordering 1). Certification: four events in two market contexts — MC1 now for
    10 min priority 2, MC1 in 20 min priority 0, MC2 now for 10 min priority 1, MC2 in 60 min priority
    0; the VEN polls, must get all four with the two active ones first and the two pending ones
    after, and its optIn to all must get 200. Ours: that order exactly — priority first (1 highest, 0
    = none = lowest), then start: MC2 active, MC1 active, MC1 pending, MC2 pending."""
    reg = await register(vtn2, "site-a")
    ten = timedelta(minutes=10)
    events = await _four_events(
        vtn2,
        [
            ("mc1_active", timedelta(0), ten, 2),
            ("mc1_pending", timedelta(minutes=20), ten, 0),
            ("mc2_active", timedelta(0), ten, 1),
            ("mc2_pending", timedelta(minutes=60), ten, 0),
        ],
    )
    reply = await poll_distribute(vtn2, reg.ven_id)
    got = reply.events
    assert [e.event_id for e in got] == [events[k].event_id for k in ("mc2_active", "mc1_active", "mc1_pending", "mc2_pending")]
    for event, status in zip(got, ("active", "active", PENDING, PENDING), strict=True):
        assert_event(event, status, "always", 0)
    assert {e.market_context for e in got} == {PROGRAM, MARKET_CONTEXT_2}
    assert_ok_response(await created_event(vtn2, reg.ven_id, [(e, "optIn") for e in got]), reg.ven_id)


async def test_A_E3_0520_TH_VEN(vtn2):
    """A_E3_0520 (Event Ordering 2). Certification: MC1 now for 10 min priority 1, MC1 in 20 min for 30
    min priority 0, MC2 started 10 min ago for 20 min priority 1, MC2 in 20 min for 10 min priority 0;
    the VEN polls and must get the two active events first, then the two pending ones (whose relative
    order is not defined; the case is re-run to see whether it is repeatable), optIn → 200. Ours: MC2
    active (earlier start), MC1 active, then the two pending ones in an order that repeats
    (oadrRequestEvent gives the same order again)."""
    reg = await register(vtn2, "site-a")
    events = await _four_events(
        vtn2,
        [
            ("mc1_active", timedelta(0), timedelta(minutes=10), 1),
            ("mc1_pending", timedelta(minutes=20), timedelta(minutes=30), 0),
            ("mc2_active", timedelta(minutes=-10), timedelta(minutes=20), 1),
            ("mc2_pending", timedelta(minutes=20), timedelta(minutes=10), 0),
        ],
    )
    got = (await poll_distribute(vtn2, reg.ven_id)).events
    assert [e.event_id for e in got[:2]] == [events["mc2_active"].event_id, events["mc1_active"].event_id]
    assert {e.event_id for e in got[2:]} == {events["mc1_pending"].event_id, events["mc2_pending"].event_id}
    for event, status in zip(got, ("active", "active", PENDING, PENDING), strict=True):
        assert_event(event, status, "always", 0)
    assert_ok_response(await created_event(vtn2, reg.ven_id, [(e, "optIn") for e in got]), reg.ven_id)
    again = await vtn2.client.request_events(reg.ven_id)
    assert [e.event_id for e in again.events] == [e.event_id for e in got]


async def test_A_E3_0525_TH_VEN(vtn):
    """A_E3_0525 (Event Order, Cancellation). Certification: two events in one market context —
    in 40 min for 10 min, and now for 30 min (both priority 0); the VEN polls, must get the active one
    first then the pending one, opts in; the operator cancels the one starting first; the VEN polls and
    must get the cancelled event first (same eventID, cancelled, modification 1) and the pending one
    second (modification 0), opts in, 200. Ours: the same."""
    reg = await register(vtn, "site-a")
    later = await vtn.create_event(start_in=timedelta(minutes=40), interval=timedelta(minutes=10), priority=0)
    now = await vtn.create_event(start_in=timedelta(0), interval=timedelta(minutes=30), priority=0)
    first = (await poll_distribute(vtn, reg.ven_id)).events
    assert [e.event_id for e in first] == [now.event_id, later.event_id]
    assert_event(first[0], "active", "always", 0)
    assert_event(first[1], PENDING, "always", 0)
    assert_ok_response(await created_event(vtn, reg.ven_id, [(e, "optIn") for e in first]), reg.ven_id)

    await vtn.cancel_event(now.event_id)
    second = (await poll_distribute(vtn, reg.ven_id)).events
    assert [e.event_id for e in second] == [now.event_id, later.event_id]
    assert_event(second[0], "cancelled", "always", 1)
    assert_event(second[1], PENDING, "always", 0)
    assert_ok_response(await created_event(vtn, reg.ven_id, [(e, "optIn") for e in second]), reg.ven_id)


async def test_A_E3_0527_TH_VEN(vtn):
    """A_E3_0527 (Near eventStatus). Certification: one event starting in 5 minutes with x-eiRampUp of
    4 minutes; after waiting past dtstart − rampUp the VEN polls and must get it with eventStatus near
    (P/always/0), opts in, 200. Ours, scaled to seconds (start in about 3–4 s, ramp-up 2 s): far at first,
    near once within the ramp-up — the status change alone makes the next poll an
    oadrDistributeEvent — and the optIn gets 200."""
    reg = await register(vtn, "site-a")
    ramp_up = timedelta(seconds=2)
    event = await vtn.create_event(start_in=timedelta(seconds=3.9), interval=timedelta(minutes=5), ramp_up=ramp_up)
    far = await only_event(vtn, reg.ven_id)
    assert_event(far, "far", "always", 0)
    await wait_until(vtn, event.dtstart - ramp_up)
    near = await only_event(vtn, reg.ven_id)
    assert_event(near, "near", "always", 0)
    assert near.ramp_up == timedelta(seconds=2)
    assert_ok_response(await created_event(vtn, reg.ven_id, [(near, "optIn")]), reg.ven_id)


async def test_A_E3_0530_TH_VEN(vtn):
    """A_E3_0530 (Observation: Overlapping Event). Certification: the operator tries to create two
    events in the same market context, both in 5 minutes for 30 minutes, priority 0; the VTN must
    prevent the second. Ours: the store API the CLI uses (`event_admin.create_event`) must refuse the
    second event (EventRefused) and only the first may be distributed."""
    reg = await register(vtn, "site-a")
    kwargs = {"start_in": timedelta(minutes=5), "interval": timedelta(minutes=30), "priority": 0}
    first = await vtn.create_event(**kwargs)
    with pytest.raises(EventRefused):
        await vtn.create_event(**kwargs)
    got = await only_event(vtn, reg.ven_id)
    assert got.event_id == first.event_id


async def three_pending(vtn) -> list[m.Event]:
    """Three non-overlapping 1-hour pending events, 2 hours apart."""
    return [
        await vtn.create_event(start_in=timedelta(minutes=10) + timedelta(hours=2 * i), interval=timedelta(hours=1))
        for i in range(3)
    ]


async def request_limited(vtn, ven_id: str, limit: int) -> m.DistributeEvent:
    reply = await vtn.client.send("EiEvent", m.RequestEvent(request_id=f"req-limit-{limit}", ven_id=ven_id, reply_limit=limit))
    assert isinstance(reply, m.DistributeEvent), reply
    assert reply.response is not None and reply.response.code == 200
    return reply


async def test_A_E3_0655_TH_VEN(vtn):
    """A_E3_0655 (ReplyLimit). Certification: three pending 1-hour events 2 hours apart; the VEN sends
    oadrRequestEvent with replyLimit 0, 1, 2, 3 and 4 and must get 0, 1, 2, 3 and 3 events (all
    P/always/0), answering each with oadrCreatedEvent. Ours: the same sequence, in that order, the
    first N events by delivery order (see also test_A_E3_0655_TH_VEN_positive_limits)."""
    reg = await register(vtn, "site-a")
    events = await three_pending(vtn)
    for limit, expected in ((0, 0), (1, 1), (2, 2), (3, 3), (4, 3)):
        reply = await request_limited(vtn, reg.ven_id, limit)
        assert [e.event_id for e in reply.events] == [e.event_id for e in events[:expected]], f"replyLimit {limit}"
        for event in reply.events:
            assert_event(event, PENDING, "always", 0)
        if reply.events:
            assert_ok_response(await created_event(vtn, reg.ven_id, [(e, "optIn") for e in reply.events]), reg.ven_id)


async def test_A_E3_0655_TH_VEN_positive_limits(vtn):
    """A_E3_0655 (ReplyLimit), the part our VTN passes today: replyLimit 1, 2, 3 and 4 give the first
    1, 2, 3 and 3 of the three pending events, in delivery order, each P/always/0, and the
    oadrCreatedEvent answers get 200. (replyLimit 0 is the defect shown by test_A_E3_0655_TH_VEN.)"""
    reg = await register(vtn, "site-a")
    events = await three_pending(vtn)
    for limit, expected in ((1, 1), (2, 2), (3, 3), (4, 3)):
        reply = await request_limited(vtn, reg.ven_id, limit)
        assert [e.event_id for e in reply.events] == [e.event_id for e in events[:expected]], f"replyLimit {limit}"
        for event in reply.events:
            assert_event(event, PENDING, "always", 0)
        assert_ok_response(await created_event(vtn, reg.ven_id, [(e, "optIn") for e in reply.events]), reg.ven_id)


async def test_A_E3_0657_TH_VEN(vtn):
    """A_E3_0657 (VTN Cancel Retries). Certification: the VEN polls and opts in to an event starting in
    a minute (3 minutes long); the operator cancels it; the VEN polls, must get it cancelled/always/1
    and does NOT answer; it polls again (within the event's window) and must get the cancelled event
    again (cancelled/always/1). Ours: the same sequence over oadrPoll."""
    reg = await register(vtn, "site-a")
    event = await vtn.create_event(start_in=timedelta(minutes=1), interval=timedelta(minutes=3))
    first = await only_event(vtn, reg.ven_id)
    assert_event(first, PENDING, "always", 0)
    assert_ok_response(await created_event(vtn, reg.ven_id, [(first, "optIn")]), reg.ven_id)

    await vtn.cancel_event(event.event_id)
    cancelled = await only_event(vtn, reg.ven_id)
    assert_event(cancelled, "cancelled", "always", 1)
    retried = await vtn.client.poll(reg.ven_id)
    assert isinstance(retried, m.DistributeEvent), retried
    assert [(e.event_id, e.status, e.modification_number) for e in retried.events] == [(event.event_id, "cancelled", 1)]


async def test_A_E3_0680_TH_VEN(vtn):
    """A_E3_0680 (Return all events). Certification (spec 1.0.6+: the second request uses
    oadrRequestEvent, not oadrPoll): events in 41 minutes (10 min long) and in 10 minutes (30 min
    long); the VEN polls, must get both (P/always/0) and opts in; a minute later it sends
    oadrRequestEvent and must again get both events. Ours: both times both events, earliest start
    first, and both oadrCreatedEvent answers get 200."""
    reg = await register(vtn, "site-a")
    late = await vtn.create_event(start_in=timedelta(minutes=41), interval=timedelta(minutes=10))
    soon = await vtn.create_event(start_in=timedelta(minutes=10), interval=timedelta(minutes=30))
    polled = (await poll_distribute(vtn, reg.ven_id)).events
    assert [e.event_id for e in polled] == [soon.event_id, late.event_id]
    for event in polled:
        assert_event(event, PENDING, "always", 0)
    assert_ok_response(await created_event(vtn, reg.ven_id, [(e, "optIn") for e in polled]), reg.ven_id)

    requested = (await vtn.client.request_events(reg.ven_id)).events
    assert [e.event_id for e in requested] == [soon.event_id, late.event_id]
    for event in requested:
        assert_event(event, PENDING, "always", 0)
    assert_ok_response(await created_event(vtn, reg.ven_id, [(e, "optIn") for e in requested]), reg.ven_id)


async def test_A_E3_0685_TH_VEN(vtn):
    """A_E3_0685 (Send randomized Event while Complete). Certification: an event starting in 1 minute,
    1 minute long, with startafter 2 minutes; the VEN polls, gets it pending (P/always/0) and opts in;
    after the event's nominal end (but within its randomization window) the VEN sends
    oadrRequestEvent and must get the same event with eventStatus completed. Ours, scaled to seconds
    (start in about 1 s, 1 s long, startafter 2 s): the same."""
    reg = await register(vtn, "site-a")
    event = await vtn.create_event(
        start_in=timedelta(seconds=1.2), interval=timedelta(seconds=1), start_after=timedelta(seconds=2)
    )
    first = await only_event(vtn, reg.ven_id)
    assert_event(first, PENDING, "always", 0)
    assert first.start_after == timedelta(seconds=2)
    assert_ok_response(await created_event(vtn, reg.ven_id, [(first, "optIn")]), reg.ven_id)

    await wait_until(vtn, event.dtstart + event.duration)
    assert vtn.ctx.now() < event.dtstart + event.duration + timedelta(seconds=2)  # still within the randomization window
    later = await vtn.client.request_events(reg.ven_id)
    assert [e.event_id for e in later.events] == [event.event_id]
    assert later.events[0].status == "completed"


async def test_A_E3_0710_TH_VEN(vtn):
    """A_E3_0710 (Application Error Code). Certification: the VEN polls a pending event and answers
    with an oadrCreatedEvent whose eiResponse carries an error code (400) and no eventResponses; the
    VTN must answer oadrResponse 200. Ours: 200, and nothing is recorded as the VEN's opt."""
    reg = await register(vtn, "site-a")
    event = await vtn.create_event(start_in=timedelta(minutes=2), interval=timedelta(minutes=5))
    got = await only_event(vtn, reg.ven_id)
    assert_event(got, PENDING, "always", 0)
    reply = await created_event(vtn, reg.ven_id, [], code=400, description="ERROR")
    assert_ok_response(reply, reg.ven_id)
    assert await stored_responses(vtn, event.event_id) == []


async def test_A_E3_0720_TH_VEN(vtn):
    """A_E3_0720 (Mismatched eventID). Certification: the VEN answers a polled event with an
    oadrCreatedEvent naming an unknown eventID; the VTN must answer with a non-2xx code. Ours:
    oadrResponse 452 (invalid ID) and nothing stored."""
    reg = await register(vtn, "site-a")
    event = await vtn.create_event(start_in=timedelta(minutes=2), interval=timedelta(minutes=5))
    got = await only_event(vtn, reg.ven_id)
    reply = await created_event(vtn, reg.ven_id, [(replace(got, event_id="UnknownEventID"), "optIn")])
    assert isinstance(reply, m.Response), reply
    assert reply.response.code == 452
    assert await stored_responses(vtn, event.event_id) == []
    assert await stored_responses(vtn, "UnknownEventID") == []


async def test_A_E3_0730_TH_VEN(vtn):
    """A_E3_0730 (Mismatched modificationNumber). Certification: the VEN answers a polled event
    (modification 0) with modificationNumber 10; the VTN must answer with a non-2xx code. Ours:
    oadrResponse 452 and nothing stored."""
    reg = await register(vtn, "site-a")
    event = await vtn.create_event(start_in=timedelta(minutes=2), interval=timedelta(minutes=5))
    got = await only_event(vtn, reg.ven_id)
    reply = await created_event(vtn, reg.ven_id, [(replace(got, modification_number=10), "optIn")])
    assert isinstance(reply, m.Response), reply
    assert reply.response.code == 452
    assert await stored_responses(vtn, event.event_id) == []


async def test_A_E3_0750_TH_VEN(vtn):
    """A_E3_0750 (eventResponse 4xx Error). Certification: two pending events (in 1 and 2 hours, 30
    minutes each); the VEN answers one oadrCreatedEvent: optIn/200 for the first and optOut with
    responseCode 409 for the second; the VTN must answer 200. Ours: 200, both stored with the codes
    given."""
    reg = await register(vtn, "site-a")
    await vtn.create_event(start_in=timedelta(hours=1), interval=timedelta(minutes=30))
    await vtn.create_event(start_in=timedelta(hours=2), interval=timedelta(minutes=30))
    got = (await poll_distribute(vtn, reg.ven_id)).events
    assert len(got) == 2
    for event in got:
        assert_event(event, PENDING, "always", 0)
    assert_ok_response(await created_event(vtn, reg.ven_id, [(got[0], "optIn"), (got[1], "optOut", 409)]), reg.ven_id)
    assert await stored_responses(vtn, got[0].event_id) == [(reg.ven_id, 0, "optIn", 200)]
    assert await stored_responses(vtn, got[1].event_id) == [(reg.ven_id, 0, "optOut", 409)]


async def test_A_E3_0780_TH_VEN(vtn):
    """A_E3_0780 (Unrecognized VEN ID). Certification: the VEN answers a polled event with an
    oadrCreatedEvent whose venID is unknown (UNKNOWN_VEN_ID); the VTN must answer with a 4xx code.
    Ours: oadrResponse 463 (not registered) and nothing stored."""
    reg = await register(vtn, "site-a")
    event = await vtn.create_event(start_in=timedelta(minutes=2), interval=timedelta(minutes=5))
    got = await only_event(vtn, reg.ven_id)
    assert got.modification_number == 0
    reply = await created_event(vtn, "UNKNOWN_VEN_ID", [(got, "optIn")])
    assert isinstance(reply, m.Response), reply
    assert 400 <= reply.response.code < 500
    assert reply.response.code == 463
    assert await stored_responses(vtn, event.event_id) == []


# --- G1_*: general cases ------------------------------------------------------------------------


async def test_G1_4020_TH_VEN(vtn):
    """G1_4020 (VTN - Concurrent A and B operation), event part. Certification: the VTN serves an A
    profile and a B profile harness VEN at the same time: the B VEN registers (Nx0020), then event
    test cases from each harness are run alternately without reconfiguring the VTN in between.
    Ours (2.0b only — the A-profile half is not covered): two 2.0b VENs interleave event exchanges
    in the styles of both harnesses — one only via oadrRequestEvent (like a 2.0a pull VEN), the
    other via oadrPoll — over broadcast and targeted events, a modification and a cancellation, with
    no VTN change in between; each VEN sees exactly its events and each one's answers are stored
    under its own venID."""
    a_like = await register(vtn, "site-a")
    b = await register(vtn, "site-b")
    broadcast = await vtn.create_event(start_in=timedelta(minutes=5), interval=timedelta(minutes=5))

    requested = await vtn.client.request_events(a_like.ven_id)  # A-style: E1_1050 / A_E3_0420
    assert [e.event_id for e in requested.events] == [broadcast.event_id]
    assert_ok_response(await created_event(vtn, a_like.ven_id, [(requested.events[0], "optIn")]), a_like.ven_id)

    polled = await only_event(vtn, b.ven_id)  # B-style: A_E3_0452
    assert polled.event_id == broadcast.event_id
    assert_ok_response(await created_event(vtn, b.ven_id, [(polled, "optOut")]), b.ven_id)

    targeted = await vtn.create_event(
        start_in=timedelta(minutes=30), interval=timedelta(minutes=5), target=m.Target(ven_ids=(b.ven_id,))
    )
    assert [e.event_id for e in (await vtn.client.request_events(a_like.ven_id)).events] == [broadcast.event_id]
    b_events = (await poll_distribute(vtn, b.ven_id)).events
    assert [e.event_id for e in b_events] == [broadcast.event_id, targeted.event_id]

    await modify(vtn, broadcast.event_id, dtstart=broadcast.dtstart + timedelta(minutes=1))  # A_E3_0470
    modified = (await vtn.client.request_events(a_like.ven_id)).events
    assert [(e.event_id, e.modification_number) for e in modified] == [(broadcast.event_id, 1)]
    assert_ok_response(await created_event(vtn, a_like.ven_id, [(modified[0], "optIn")]), a_like.ven_id)

    await vtn.cancel_event(targeted.event_id)  # A_E3_0492
    b_events = (await poll_distribute(vtn, b.ven_id)).events
    assert [(e.event_id, e.modification_number, e.status) for e in b_events] == [
        (broadcast.event_id, 1, b_events[0].status),
        (targeted.event_id, 1, "cancelled"),
    ]
    assert_ok_response(await created_event(vtn, b.ven_id, [(e, "optIn") for e in b_events]), b.ven_id)

    assert await stored_responses(vtn, broadcast.event_id) == [
        (a_like.ven_id, 0, "optIn", 200),
        (b.ven_id, 0, "optOut", 200),
        (a_like.ven_id, 1, "optIn", 200),
        (b.ven_id, 1, "optIn", 200),
    ]
    assert await stored_responses(vtn, targeted.event_id) == [(b.ven_id, 1, "optIn", 200)]


async def test_G1_4011_TH_VEN(vtn):
    """G1_4011 (VEN - Empty oadrPoll). Certification: a registered VEN with nothing pending polls and
    must get an oadrResponse. Ours: oadrResponse 200 carrying the VEN's venID, poll after poll, and
    again once a delivered event has been answered."""
    reg = await register(vtn, "site-a")
    assert_ok_response(await vtn.client.poll(reg.ven_id), reg.ven_id)
    got = await vtn.create_event()
    delivered = await only_event(vtn, reg.ven_id)
    assert delivered.event_id == got.event_id
    assert_ok_response(await created_event(vtn, reg.ven_id, [(delivered, "optIn")]), reg.ven_id)
    assert_ok_response(await vtn.client.poll(reg.ven_id), reg.ven_id)
