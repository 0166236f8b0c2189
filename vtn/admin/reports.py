"""Asking VENs for reports and cancelling those requests — used by the CLI and the APIs.

A request is stored, then queued in the VEN's outbox; it goes out as oadrCreateReport at the VEN's
next poll (or piggy-backed on oadrRegisteredReport when made at report registration).
"""

import uuid
from datetime import datetime, timedelta

from mapping.oadr import report_model as r
from vtn.domain import OutboxKind
from vtn.store import Tx
from vtn.store import report_repository as reports
from vtn.store import repository as repo

#: a periodic request without an explicit window runs this long (a reportInterval is always sent)
DEFAULT_PERIODIC_WINDOW = timedelta(days=1)


class ReportRefused(ValueError):
    """A report request that cannot be made; the message says why."""


def new_request_id() -> str:
    """A fresh reportRequestID."""
    return f"rr-{uuid.uuid4().hex[:16]}"


def build_request(
    session: Tx,
    ven_id: str,
    report_name: str,
    now: datetime,
    *,
    granularity: timedelta = timedelta(0),
    report_back: timedelta = timedelta(0),
    start: datetime | None = None,
    duration: timedelta | None = None,
    r_ids: tuple[str, ...] = (),
) -> r.ReportRequest:
    """A request for `report_name` (TELEMETRY_USAGE, …, or METADATA) from what the VEN registered.

    granularity/report_back both zero → one-shot; positive → periodic; a window in the past → history.
    """
    if report_name == "METADATA":
        # the schema needs one specifierPayload; a METADATA request names no real rID
        return r.ReportRequest(
            new_request_id(),
            "METADATA",
            timedelta(0),
            timedelta(0),
            (r.SpecifierPayload("0"),),
            now.replace(microsecond=0),
            timedelta(0),
        )
    offered = [
        (spec, d) for spec, name, d in reports.descriptions(session, ven_id) if name in (report_name, f"METADATA_{report_name}")
    ]
    if not offered:
        raise ReportRefused(f"VEN {ven_id} has not registered a {report_name} report (ask it for METADATA first)")
    specifier = offered[0][0]
    known = {d.r_id: d for spec, d in offered if spec == specifier}
    unknown = [x for x in r_ids if x not in known]
    if unknown:
        raise ReportRefused(f"VEN {ven_id} has no rID {', '.join(unknown)} in {report_name} (it has {', '.join(known)})")
    if granularity < timedelta(0) or report_back < timedelta(0):
        raise ReportRefused("granularity and report-back duration must not be negative")
    periodic = granularity > timedelta(0) or report_back > timedelta(0)
    if periodic:
        granularity = fit_sampling_rate(granularity, [known[x].sampling for x in (r_ids or tuple(known))])
    window = duration if duration is not None else (DEFAULT_PERIODIC_WINDOW if periodic else timedelta(0))
    return r.ReportRequest(
        report_request_id=new_request_id(),
        report_specifier_id=specifier,
        granularity=granularity,
        report_back=report_back,
        interval_start=(start or now).replace(microsecond=0),  # the wire carries whole seconds
        interval_duration=window,
        payloads=tuple(
            r.SpecifierPayload(r_id=x) for x in (r_ids or tuple(known))
        ),  # readingType x-notApplicable, as requests carry
    )


def fit_sampling_rate(granularity: timedelta, rates: list[r.SamplingRate | None]) -> timedelta:
    """Clamp a requested granularity into the sampling range every asked rID offers (VENs refuse others)."""
    lows = [x.min_period for x in rates if x is not None and x.min_period > timedelta(0)]
    highs = [x.max_period for x in rates if x is not None and x.max_period > timedelta(0)]
    if lows and granularity < max(lows):
        granularity = max(lows)
    if highs and granularity > min(highs):
        granularity = min(highs)
    return granularity


def request_report(session: Tx, ven_id: str, report_name: str, now: datetime, **options: object) -> r.ReportRequest:
    """Store a request and queue it for the VEN's next poll."""
    ven = repo.load_ven(session, ven_id)
    if ven is None or not ven.registered:
        raise ReportRefused(f"VEN {ven_id} is not registered")
    request = build_request(session, ven_id, report_name, now, **options)  # type: ignore[arg-type]
    reports.save_request(session, ven_id, request, report_name, "pending", now)
    repo.enqueue(session, ven_id, OutboxKind.CREATE_REPORT, {"report_request_ids": [request.report_request_id]}, now)
    return request


def cancel_request(session: Tx, report_request_id: str, now: datetime, report_to_follow: bool = False) -> str:
    """Queue oadrCancelReport for a request; returns the VEN it goes to."""
    found = reports.requests_by_id(session, [report_request_id]).get(report_request_id)
    if found is None:
        raise ReportRefused(f"no report request {report_request_id}")
    ven_id, _request, _name, state = found
    if state in ("cancelling", "cancelled"):
        raise ReportRefused(f"report request {report_request_id} is already {state}")
    reports.set_request_state(session, [report_request_id], "cancelling", now)
    repo.enqueue(
        session,
        ven_id,
        OutboxKind.CANCEL_REPORT,
        {"report_request_ids": [report_request_id], "report_to_follow": report_to_follow},
        now,
    )
    return ven_id
