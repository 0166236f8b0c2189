"""A VTN that misbehaves: schema-invalid XML, unknown signals, HTTP errors, empty bodies, garbage,
timeouts, lost answers. Our VEN must log, keep running, and keep every valid event it holds;
intervals without their own dtstart (the 2.0b norm) must just work."""

import logging
from dataclasses import replace
from datetime import timedelta

import pytest

from mapping.oadr import model as m
from mapping.oadr.encode import encode
from tests.ven_conformance import create_report, distribute, event, report_request, utc_now
from tests.ven_conformance.scripted_vtn import Later, Raw, Th

SECOND = timedelta(seconds=1)


def warned(caplog: pytest.LogCaptureFixture, text: str) -> bool:
    """The VEN logged a warning or error containing `text`."""
    return any(text in r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("cariflex"))


async def holding_an_event(th: Th) -> m.Event:
    """Start the VEN and give it a pending event (answered optIn)."""
    await th.start_ven()
    held = event()
    await th.deliver(distribute(th.vtn.vtn_id, held))
    await th.answer(held)
    return held


async def assert_unharmed(th: Th, held: m.Event) -> None:
    """The VEN polls on, still holds `held` (never cancelled), and takes the next valid
    oadrDistributeEvent: a new event is answered, the unchanged held one is not answered again."""
    await th.still_polling()
    assert held.event_id in th.held() and not th.hooks.of(held.event_id, "cancel")
    fresh = event()
    mark = await th.deliver(distribute(th.vtn.vtn_id, held, fresh))
    assert (await th.answer(fresh, mark)).opt_type == "optIn"
    assert not th.vtn.responses_to(held, mark)


def invalid_distributions(vtn_id: str, held: m.Event) -> dict[str, bytes]:
    """oadrDistributeEvent bodies that are well-formed XML but not valid against the 2.0b XSD; each
    still lists the held event, so a VEN that took it anyway would show."""
    fresh = event()
    good = encode(distribute(vtn_id, held, fresh)).decode()
    status = f"<ei:eventStatus>{fresh.status}</ei:eventStatus>"
    return {
        "unknown eventStatus": good.replace(status, "<ei:eventStatus>bogus</ei:eventStatus>", 1),
        "missing eventID": good.replace(f"<ei:eventID>{fresh.event_id}</ei:eventID>", ""),
        "signal name not 2.0b and not x-": good.replace(
            "<ei:signalName>simple</ei:signalName>", "<ei:signalName>FOO</ei:signalName>"
        ),
        "text instead of a number": good.replace("<ei:value>1</ei:value>", "<ei:value>one</ei:value>", 1),
        "unknown element": good.replace("</ei:eventDescriptor>", "<ei:colour>red</ei:colour></ei:eventDescriptor>", 1),
    }


@pytest.mark.parametrize(
    "case",
    ["unknown eventStatus", "missing eventID", "signal name not 2.0b and not x-", "text instead of a number", "unknown element"],
)
async def test_schema_invalid_distribute_event(th, caplog, case):
    """An oadrDistributeEvent that is not valid against the XSD is refused as a whole: the VEN logs
    why, answers nothing, keeps its events and keeps polling."""
    held = await holding_an_event(th)
    body = invalid_distributions(th.vtn.vtn_id, held)[case]
    assert body.count("<ei:eventID>") >= 1
    mark = await th.deliver(body.encode())
    assert not th.vtn.messages("oadrCreatedEvent", mark)
    assert warned(caplog, "not valid against the 2.0b schema")
    await assert_unharmed(th, held)


async def test_unknown_signal_names(th):
    """Extension signals the site does not know (x-UNKNOWN_SIGNAL, alone or beside a SIMPLE
    signal) are refused: optOut with eventResponse 460; the event is not run."""
    await th.start_ven()
    alone = event(signal="x-UNKNOWN_SIGNAL", signal_type="level", start_in=0.2 * SECOND)
    mixed = event(signal="SIMPLE")
    mixed = replace(mixed, signals=(*mixed.signals, replace(alone.signals[0], signal_id="sig-x")))
    await th.deliver(distribute(th.vtn.vtn_id, alone, mixed))
    for ev in (alone, mixed):
        answer = await th.answer(ev)
        assert (answer.opt_type, answer.code) == ("optOut", 460), answer
    await th.wait(lambda: utc_now() > alone.dtstart + 0.2 * SECOND, "the dtstart to pass")
    assert not th.hooks.of(alone.event_id, "start")


async def test_intervals_without_dtstart(th):
    """Intervals carry only durations (normal in 2.0b): the VEN runs them back to back from the
    event's dtstart. An event whose intervals do carry their dtstart is accepted too."""
    await th.start_ven()
    # 2.5 s ahead: the wire drops the fraction, so a start under 1.5 s ahead could already be under way when it arrives
    plain = event(intervals=((1, 1.0), (1, 2.0)), start_in=2.5 * SECOND)
    assert all(i.dtstart is None for i in plain.signals[0].intervals)
    dated = event()
    first = replace(dated.signals[0].intervals[0], dtstart=dated.dtstart)
    dated = replace(dated, signals=(replace(dated.signals[0], intervals=(first,)),))
    await th.deliver(distribute(th.vtn.vtn_id, plain, dated))
    assert (await th.answer(plain)).opt_type == "optIn"
    assert (await th.answer(dated)).opt_type == "optIn"
    await th.wait(lambda: th.hooks.of(plain.event_id, "end"), "the event to run", timeout=8)
    intervals = th.hooks.of(plain.event_id, "interval")
    assert [c.detail for c in intervals] == [0, 1]
    assert intervals[0].at >= plain.dtstart and intervals[1].at >= plain.dtstart + SECOND


BAD_ANSWERS = {
    "HTTP 500": (Raw(b"internal error", 500, "text/plain"), "HTTP 500"),
    "HTTP 404": (Raw(b"not found", 404, "text/plain"), "HTTP 404"),
    "empty body": (Raw(b""), None),
    "garbage": (Raw(b"\x00\xff\xfegarbage<<<", 200, "application/octet-stream"), "not an OpenADR message"),
    "HTML page": (Raw(b"<html><body>502 Bad Gateway</body></html>", 200, "text/html"), "not an OpenADR message"),
    "foreign XML": (Raw(b'<?xml version="1.0"?><foo xmlns="urn:x"><bar/></foo>'), "not an OpenADR message"),
    "DOCTYPE with entities": (
        Raw(b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY b "bbbbbbbb">]><a>&b;&b;</a>'),
        "not an OpenADR message",
    ),
    "timeout": (Raw(b"", delay=1.5), "TimeoutError"),
}


@pytest.mark.parametrize("case", sorted(BAD_ANSWERS))
async def test_bad_answer_to_a_poll(th, caplog, case):
    """The VTN answers a poll with an HTTP error, an empty body, garbage, non-OpenADR XML, a DOCTYPE
    or not at all (timeout): the VEN logs it (an empty body is "nothing pending" and needs no log),
    keeps polling, and keeps its events."""
    held = await holding_an_event(th)
    answer, logged = BAD_ANSWERS[case]
    await th.deliver(answer)
    if logged is not None:
        assert warned(caplog, logged), [r.getMessage() for r in caplog.records]
    await assert_unharmed(th, held)


async def test_truncated_xml(th, caplog):
    """An oadrDistributeEvent cut off in the middle (malformed XML): logged, refused, events kept."""
    held = await holding_an_event(th)
    await th.deliver(encode(distribute(th.vtn.vtn_id, held, event()))[:300])
    assert warned(caplog, "malformed XML")
    await assert_unharmed(th, held)


async def test_poll_answered_463(th):
    """A 463 (not registered) answer to a poll: the VEN registers again, as documented, and polls
    with the venID the VTN gives it."""
    await th.start_ven()
    mark = th.vtn.mark()
    th.vtn.answer_next("oadrPoll", m.Response(m.EiResponse(463, "not registered"), th.vtn.ven_id))
    await th.wait(lambda: th.vtn.messages("oadrCreatePartyRegistration", mark), "the VEN to register again")
    await th.still_polling()


async def test_vtn_down_then_back(th, caplog):
    """Every request fails with HTTP 503 for a while: the VEN backs off, logs, and resumes with its
    events when the VTN is back."""
    held = await holding_an_event(th)
    th.vtn.outage = Raw(b"maintenance", 503, "text/plain")
    mark = th.vtn.mark()
    await th.wait(lambda: len(th.vtn.received("oadrPoll", mark)) >= 3, "polls during the outage")
    th.vtn.outage = None
    assert warned(caplog, "HTTP 503")
    await assert_unharmed(th, held)


async def test_report_kept_until_the_vtn_takes_it(th):
    """The durable report queue: the VTN fails the first two deliveries of a report (HTTP 500, then
    a timeout); the VEN keeps it and sends the very same message again until it is answered."""
    await th.start_ven()
    th.vtn.answer_next("oadrUpdateReport", Raw(b"", 500), Raw(b"", delay=1.5))
    rq = report_request(f"{th.site_name}:TELEMETRY_STATUS", ("status",))
    await th.deliver(create_report(th.vtn.ven_id, rq))
    await th.wait(lambda: len(th.vtn.messages("oadrUpdateReport")) >= 3, "three delivery attempts", timeout=4.5)
    await th.wait(lambda: not th.ven.site.store.unsent(th.site_name), "the report to be delivered")
    assert len({u.request_id for u in th.vtn.messages("oadrUpdateReport")}) == 1


async def test_report_delivered_once_to_a_slow_vtn(th):
    """A VTN that takes 0.5 s to answer oadrUpdateReport must still get each report once (the same
    duplicate shows intermittently in R1_3030 with two periodic requests)."""
    await th.start_ven()
    th.vtn.answer_next("oadrUpdateReport", Later(0.5))
    rq = report_request(f"{th.site_name}:TELEMETRY_STATUS", ("status",))
    await th.deliver(create_report(th.vtn.ven_id, rq))
    await th.wait(lambda: not th.ven.site.store.unsent(th.site_name) and th.vtn.messages("oadrUpdateReport"), "the report")
    await th.vtn.settle()
    ids = [u.request_id for u in th.vtn.messages("oadrUpdateReport")]
    assert len(ids) == len(set(ids)), f"delivered {len(ids)} times: {ids}"


async def test_created_event_sent_again_after_vtn_error(th):
    """The VTN fails the VEN's oadrCreatedEvent (HTTP 500) and, not having the answer, distributes the
    same event again (as our VTN does for oadrResponseRequired always): the VEN must answer again."""
    await th.start_ven()
    ev = event()
    th.vtn.answer_next("oadrCreatedEvent", Raw(b"", 500))
    await th.deliver(distribute(th.vtn.vtn_id, ev))
    await th.answer(ev)
    assert th.held()[ev.event_id].answered_modification is None
    mark = await th.deliver(distribute(th.vtn.vtn_id, ev))
    assert th.vtn.responses_to(ev, mark), "the unanswered event was not answered again"


async def test_report_registration_retried_after_vtn_error(th):
    """The VTN fails the VEN's oadrRegisterReport at registration (HTTP 500): the VEN must register
    its reports again later, or the VTN never learns what it can request."""
    th.vtn.answer_next("oadrRegisterReport", Raw(b"", 500))
    await th.start_ven()
    await th.wait(lambda: len(th.vtn.messages("oadrRegisterReport")) >= 2, "the report registration to be retried", 2)
