"""E1_* (2.0b events, pull) with our VEN as the device under test and the harness as the VTN.

The events mirror the harness's templates (Event_001 SIMPLE, Event_002 ELECTRICITY_PRICE,
Event_004 LOAD_DISPATCH, Event_005 price with baseline, Event_006 custom signal); these cases only
look at the exchange, so their times stay in minutes.
"""

from dataclasses import replace
from datetime import timedelta

from mapping.oadr import model as m
from mapping.oadr.vocabulary import default_unit, power_kw
from tests.ven_conformance import distribute, event, modified, utc_now, with_intervals
from tests.ven_conformance.scripted_vtn import Th

RESOURCES = ("resource-1", "resource-2")


def event_001() -> m.Event:
    """SIMPLE level 2, in 1 minute for 5 minutes, targeting a group, a party and two resources."""
    target = m.Target(group_ids=("group-1",), party_ids=("party-1",), resource_ids=RESOURCES)
    return event(
        signal="SIMPLE",
        intervals=((300, 2.0),),
        start_in=timedelta(minutes=1),
        notification=timedelta(minutes=1),
        target=target,
    )


def event_002() -> m.Event:
    """ELECTRICITY_PRICE 3.14, in 10 minutes for 5 minutes, targeting two resources."""
    return event(
        signal="ELECTRICITY_PRICE",
        signal_type="price",
        intervals=((300, 3.14),),
        start_in=timedelta(minutes=10),
        notification=timedelta(minutes=1),
        target=m.Target(resource_ids=RESOURCES),
    )


def event_004() -> m.Event:
    """LOAD_DISPATCH setpoint 40 (kW), in 1 minute for 5 minutes, group, party and one resource."""
    return event(
        signal="LOAD_DISPATCH",
        signal_type="setpoint",
        intervals=((300, 40.0),),
        unit=power_kw(),
        start_in=timedelta(minutes=1),
        target=m.Target(group_ids=("group-1",), party_ids=("party-1",), resource_ids=RESOURCES[:1]),
    )


def event_005() -> m.Event:
    """ELECTRICITY_PRICE 3.14 then 3.17 (1 hour each) in 10 minutes, with a price baseline of
    the day before (3.05, 3.08)."""
    ev = event(
        signal="ELECTRICITY_PRICE",
        signal_type="price",
        intervals=((3600, 3.14), (3600, 3.17)),
        start_in=timedelta(minutes=10),
        target=m.Target(resource_ids=RESOURCES),
    )
    start = utc_now() - timedelta(days=1)
    baseline = m.Signal(
        name="Price_Baseline",
        type="Price_Baseline",
        signal_id="baseline-1",
        intervals=(
            m.Interval(timedelta(hours=1), 3.05, 0, dtstart=start),
            m.Interval(timedelta(hours=1), 3.08, 1),
        ),
        unit=default_unit("ELECTRICITY_PRICE", "price"),
    )
    return replace(ev, baseline=baseline)


def event_006() -> m.Event:
    """x-CUSTOM_SIGNAL (price 99), in 10 minutes for 5 minutes."""
    return event(signal="x-CUSTOM_SIGNAL", signal_type="price", intervals=((300, 99.0),), start_in=timedelta(minutes=10))


async def assert_opt_in(th: Th, *events: m.Event, after: int = 0) -> None:
    """Each event (at its modification) was answered optIn with code 200, echoing the requestID."""
    for ev in events:
        answer = await th.answer(ev, after)
        assert (answer.opt_type, answer.code) == ("optIn", 200), answer


async def test_E1_1010_TH_VTN(th):
    """Certification: the harness hands out an oadrDistributeEvent without events and checks it
    was delivered.
    Ours: the VEN takes it, sends no oadrCreatedEvent, and keeps polling."""
    await th.start_ven()
    mark = await th.deliver(distribute(th.vtn.vtn_id))
    assert th.vtn.received(after=mark)[0].name == "oadrPoll"
    assert not th.vtn.messages("oadrCreatedEvent", mark)
    await th.still_polling()


async def test_E1_1020_TH_VTN(th):
    """Certification: an ELECTRICITY_PRICE event (Event_002) is handed out; the VEN must answer
    oadrCreatedEvent optIn; the harness answers oadrResponse.
    Ours: optIn 200 for the event and modification, the eventResponse echoing the requestID of the
    oadrDistributeEvent; the VEN holds the event."""
    await th.start_ven()
    ev = event_002()
    message = distribute(th.vtn.vtn_id, ev)
    await th.deliver(message)
    await assert_opt_in(th, ev)
    assert th.vtn.responses_to(ev)[0].request_id == message.request_id
    created = th.vtn.messages("oadrCreatedEvent")[0]
    assert created.response.code == 200 and created.ven_id == th.vtn.ven_id
    assert ev.event_id in th.held()


async def test_E1_1025_TH_VTN(th):
    """Certification: a LOAD_DISPATCH setpoint event (Event_004, 40 powerReal) must be answered optIn.
    Ours: optIn 200 (40 kW is above the site's minimum import limit)."""
    await th.start_ven()
    ev = event_004()
    await th.deliver(distribute(th.vtn.vtn_id, ev))
    await assert_opt_in(th, ev)


async def test_E1_1027_TH_VTN(th):
    """Certification: a price event with an eiEventBaseline (Event_005) must be answered optIn.
    Ours: optIn 200; the VEN holds the event with its baseline."""
    await th.start_ven()
    ev = event_005()
    await th.deliver(distribute(th.vtn.vtn_id, ev))
    await assert_opt_in(th, ev)
    assert th.held()[ev.event_id].event.baseline is not None


async def test_E1_1030_TH_VTN(th):
    """Certification: Event_002 is handed out, then (once answered) a modification of it
    (modificationNumber 1, 10 minutes instead of 5); both must be answered optIn.
    Ours: two answers, one per modification, both optIn 200; the VEN holds modification 1."""
    await th.start_ven()
    ev = event_002()
    await th.deliver(distribute(th.vtn.vtn_id, ev))
    await assert_opt_in(th, ev)
    changed = modified(with_intervals(ev, ((600, 3.14),)))
    await th.deliver(distribute(th.vtn.vtn_id, changed))
    await assert_opt_in(th, changed)
    assert th.held()[ev.event_id].event.modification_number == 1


async def test_E1_1040_TH_VTN(th):
    """Certification: one oadrDistributeEvent with a SIMPLE and an ELECTRICITY_PRICE event; the VEN
    may answer both in one oadrCreatedEvent or in two, both optIn.
    Ours: both optIn 200."""
    await th.start_ven()
    simple, price = event_001(), event_002()
    await th.deliver(distribute(th.vtn.vtn_id, simple, price))
    await assert_opt_in(th, simple, price)
    assert len(th.vtn.event_responses()) == 2


async def test_E1_1050_TH_VTN(th):
    """Certification (VEN use of oadrRequestEvent): in pull mode the harness hands Event_002 out
    on oadrPoll and expects an optIn.
    Ours: the event is taken from oadrPoll and answered optIn 200. Our VEN never sends
    oadrRequestEvent: 2.0b pull VENs may rely on oadrPoll alone."""
    await th.start_ven()
    ev = event_002()
    await th.deliver(distribute(th.vtn.vtn_id, ev))
    await assert_opt_in(th, ev)
    assert not th.vtn.messages("oadrRequestEvent")


async def test_E1_1070_TH_VTN(th):
    """Certification: an event with signal x-CUSTOM_SIGNAL (Event_006) must be answered with
    eiResponse 200 and an eventResponse 460 (signal not supported).
    Ours: eiResponse 200, eventResponse 460 optOut; the event is not run."""
    await th.start_ven()
    ev = event_006()
    await th.deliver(distribute(th.vtn.vtn_id, ev))
    answer = await th.answer(ev)
    assert (answer.code, answer.opt_type) == (460, "optOut")
    assert th.vtn.messages("oadrCreatedEvent")[0].response.code == 200


async def test_E1_1080_TH_VTN(th):
    """Certification (real-device branch): the harness swaps the case of its vtnID in an
    oadrDistributeEvent (Event_001); the VEN must answer oadrCreatedEvent with eiResponse 452.
    Ours: eiResponse 452, no eventResponse, the event is not taken."""
    await th.start_ven()
    ev = event_001()
    await th.deliver(distribute(th.vtn.vtn_id.swapcase(), ev))
    created = th.vtn.messages("oadrCreatedEvent")
    assert len(created) == 1 and created[0].response.code == 452
    assert not created[0].event_responses
    assert ev.event_id not in th.held()


async def test_E1_1080_TH_VTN_any_vtn_id(th):
    """E1_1080 again with the VEN started with `vtn_id=None` (`cariflex ven --any-vtn-id`): it
    registered with vtnID TH_VTN, so an oadrDistributeEvent from th_vtn must still get 452."""
    await th.start_ven(expect_vtn_id=None)
    ev = event_001()
    await th.deliver(distribute(th.vtn.vtn_id.swapcase(), ev))
    created = th.vtn.messages("oadrCreatedEvent")
    assert len(created) == 1 and created[0].response.code == 452, [c.response for c in created]
    assert ev.event_id not in th.held()
