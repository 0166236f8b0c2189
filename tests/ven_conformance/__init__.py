"""Conformance tests of our site VEN in pull mode, named after the OpenADR Alliance 2.0b
certification test cases in which the test harness plays the VTN (`*_TH_VTN`); see
docs/conformance-ven.md. The scripted VTN and the harness are in `scripted_vtn.py`.

This module holds what the test files share: building events and VTN messages the way the
certification harness does (minutes scaled down to seconds where the VEN's timing is observed),
and reading the Alliance sample messages.
"""

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from mapping.oadr import model as m
from mapping.oadr import report_model as r
from mapping.oadr.lifecycle import event_status
from mapping.oadr.vocabulary import default_unit
from tests.support import reference_data, samples

MARKET = "http://cariflex.mq/programs/test"

_ids = itertools.count(1)


def new_id(prefix: str) -> str:
    """A fresh id for events, requests and report requests."""
    return f"{prefix}-{next(_ids)}"


def on_the_wire(moment: datetime) -> datetime:
    """`moment` as the VEN receives it: the wire carries whole seconds, the fraction dropped
    (`mapping.oadr.timefmt.wire_datetime`, which the scripted VTN encodes with), so what a test builds is what the
    VEN holds."""
    return moment.replace(microsecond=0)


def utc_now() -> datetime:
    """Now, in UTC, as the wire carries it (`on_the_wire`)."""
    return on_the_wire(datetime.now(UTC))


def event(
    event_id: str | None = None,
    *,
    start_in: timedelta = timedelta(hours=1),
    dtstart: datetime | None = None,
    intervals: tuple[tuple[float, float], ...] = ((60.0, 1.0),),
    duration: timedelta | None = None,
    signal: str = "simple",
    signal_type: str = "level",
    status: str | None = None,
    mod: int = 0,
    response: str = "always",
    **fields: object,
) -> m.Event:
    """An oadrEvent: one signal whose intervals are (seconds, value) without their own dtstart (the
    2.0b norm); dtstart is now + `start_in`; the status follows from the time unless given."""
    start = on_the_wire(dtstart or utc_now() + start_in)
    length = duration if duration is not None else timedelta(seconds=sum(s for s, _v in intervals))
    sig = m.Signal(
        name=signal,
        type=signal_type,
        signal_id=new_id("sig"),
        intervals=tuple(m.Interval(timedelta(seconds=s), v, i) for i, (s, v) in enumerate(intervals)),
        unit=fields.pop("unit", default_unit(signal, signal_type)),  # type: ignore[arg-type]
        current_value=float(fields.pop("current_value", 0.0)),  # type: ignore[arg-type]
    )
    return m.Event(
        event_id=event_id or new_id("evt"),
        modification_number=mod,
        market_context=str(fields.pop("market_context", MARKET)),
        created=utc_now(),
        status=status or event_status(start, length, utc_now()),
        dtstart=start,
        duration=length,
        signals=(sig,),
        response_required=response,
        **fields,  # type: ignore[arg-type]
    )


def modified(ev: m.Event, **changes: object) -> m.Event:
    """The next modification of an event (status recomputed unless given)."""
    if "dtstart" in changes:
        changes["dtstart"] = on_the_wire(changes["dtstart"])  # type: ignore[arg-type]
    changed = replace(ev, modification_number=ev.modification_number + 1, modification_datetime=utc_now(), **changes)
    if "status" not in changes:
        changed = replace(changed, status=event_status(changed.dtstart, changed.duration, utc_now()))
    return changed


def with_intervals(ev: m.Event, intervals: tuple[tuple[float, float], ...]) -> m.Event:
    """The event with new (seconds, value) intervals for its signal, and the matching duration."""
    signal = replace(ev.signals[0], intervals=tuple(m.Interval(timedelta(seconds=s), v, i) for i, (s, v) in enumerate(intervals)))
    return replace(ev, signals=(signal,), duration=timedelta(seconds=sum(s for s, _v in intervals)))


def cancelled(ev: m.Event, **changes: object) -> m.Event:
    """The cancellation of an event: status cancelled, next modification number."""
    return modified(ev, status="cancelled", **changes)


def distribute(vtn_id: str, *events: m.Event, request_id: str | None = None) -> m.DistributeEvent:
    """An oadrDistributeEvent (with the eiResponse 200 the harness puts in)."""
    rid = request_id or new_id("dist")
    return m.DistributeEvent(request_id=rid, vtn_id=vtn_id, events=events, response=m.EiResponse(request_id=rid))


def report_request(
    specifier_id: str,
    r_ids: tuple[str, ...],
    *,
    granularity: float = 0,
    report_back: float = 0,
    start_in: float | None = None,
    duration: float | None = None,
    request_id: str | None = None,
) -> r.ReportRequest:
    """An oadrReportRequest; times in seconds (start_in None: no reportInterval)."""
    return r.ReportRequest(
        report_request_id=request_id or new_id("rr"),
        report_specifier_id=specifier_id,
        granularity=timedelta(seconds=granularity),
        report_back=timedelta(seconds=report_back),
        payloads=tuple(r.SpecifierPayload(x) for x in r_ids),
        interval_start=utc_now().replace(microsecond=0) + timedelta(seconds=start_in) if start_in is not None else None,
        interval_duration=timedelta(seconds=duration) if duration is not None else None,
    )


def create_report(ven_id: str, *requests: r.ReportRequest) -> r.CreateReport:
    """An oadrCreateReport with these requests."""
    return r.CreateReport(request_id=new_id("req"), report_requests=requests, ven_id=ven_id)


def cancel_report(ven_id: str, *report_request_ids: str, follow: bool = False) -> r.CancelReport:
    """An oadrCancelReport."""
    return r.CancelReport(new_id("req"), report_request_ids, follow, ven_id)


def sample_names() -> list[str]:
    """The Alliance sample files, by name."""
    return [path.name for path in samples.sample_files()]


def alliance_sample(file_name: str, *, ven_id: str, vtn_id: str, registration_id: str) -> bytes:
    """An Alliance sample wrapped in oadrPayload/oadrSignedObject, with every venID, vtnID and
    registrationID replaced by the live ones."""
    return samples.wrapped(
        reference_data.alliance_sample(file_name), ven_id=ven_id, registration_id=registration_id, vtn_id=vtn_id
    )


def sample_message_name(file_name: str) -> str:
    """The message element's local name of a sample."""
    return samples.message_name(reference_data.alliance_sample(file_name))
