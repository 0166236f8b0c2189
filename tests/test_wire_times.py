"""Every dateTime the VTN and the VEN put on the 2.0b wire is whole seconds, UTC, `Z` (review issue 22, finding 17;
docs/vtn.md "Times on the wire are whole seconds, UTC"), whatever the clock's fraction of a second."""

import re
from datetime import UTC, datetime, timedelta

from lxml import etree

from mapping.oadr import model as m
from mapping.oadr import report_model as r
from mapping.oadr.encode import encode
from mapping.oadr.timefmt import wire_datetime
from tests.support.vtn_harness import config_for_tests, running_vtn

#: a moment with a fraction of a second, as the clock gives them
T = datetime(2026, 12, 7, 0, 46, 6, 256_000, tzinfo=UTC)
WHOLE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def _times(body: bytes) -> list[str]:
    """The text of every xcal:date-time and every *DateTime element of a message."""
    root = etree.fromstring(body)
    return [el.text or "" for el in root.iter() if isinstance(el.tag, str) and el.tag.endswith(("}date-time", "DateTime"))]


def _assert_whole_seconds(body: bytes) -> None:
    times = _times(body)
    assert times, "no dateTime in the message"
    assert all(WHOLE.match(t) for t in times), times


def test_the_wire_encoding_drops_the_fraction_and_says_utc():
    assert wire_datetime(T) == "2026-12-07T00:46:06Z"
    assert wire_datetime(T.astimezone(UTC).replace(tzinfo=UTC) + timedelta(hours=-4)) == "2026-12-06T20:46:06Z"


def test_events_are_encoded_in_whole_seconds():
    interval = m.Interval(timedelta(minutes=15), 1.0, 0, dtstart=T)
    signal = m.Signal("SIMPLE", "level", "s", (interval,))
    event = m.Event("e", 0, "http://p", T, "far", T, timedelta(minutes=15), (signal,), modification_datetime=T)
    _assert_whole_seconds(encode(m.DistributeEvent(request_id="q", vtn_id="V", events=(event,))))


def test_reports_requests_and_opts_are_encoded_in_whole_seconds():
    request = r.ReportRequest(
        "rr", "spec", timedelta(minutes=15), timedelta(0), (r.SpecifierPayload("x"),), T, timedelta(hours=1)
    )
    interval = r.ReportInterval((r.ReportPayload("x", 1.0),), T, timedelta(minutes=15), "0")
    report = r.ReportData("rr", "spec", "TELEMETRY_USAGE", T, (interval,), T, timedelta(minutes=15))
    opt = r.CreateOpt("o", "optOut", "mustRun", "ven", T, "q", "http://p", windows=((T, timedelta(hours=1)),))
    for message in (r.CreateReport("q", (request,), "ven"), r.UpdateReport("q", (report,), "ven"), opt):
        _assert_whole_seconds(encode(message))


async def test_the_vtn_serves_whole_seconds_over_http(sqlite_url):
    async with running_vtn(config_for_tests(sqlite_url)) as vtn:
        vtn.ctx.clock = lambda: T  # created and modified at a fraction of a second
        reg = await vtn.client.register("site-times")
        await vtn.create_event(start_at=T + timedelta(hours=2, microseconds=400_000), response_required="never")
        reply = await vtn.client.post("EiEvent", encode(m.RequestEvent(request_id="q", ven_id=reg.ven_id)))
        assert reply.status == 200
        _assert_whole_seconds(reply.body)
