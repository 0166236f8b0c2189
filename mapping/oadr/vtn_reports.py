"""VTN reporting: the one report this VTN offers to its VENs is its METADATA report (its own oadrRegisterReport),
as in the certification's VTN reporting cases (R1_3070…R1_3100). A VEN asks for it with oadrCreateReport
(reportSpecifierID METADATA); a one-shot request is answered by one oadrRegisterReport at the VEN's next
poll, a periodic one (reportBackDuration > 0) by one every reportBackDuration until its reportInterval
ends (or, without an end, until the VEN cancels it with oadrCancelReport).

A request lives in the VTN's outbox as its next queued oadrRegisterReport: the payload below says which
request it answers, when it is due and what follows it. Pure functions: the VTN's services store and send.
"""

from datetime import datetime, timedelta
from typing import Any

from mapping.oadr import report_model as r
from mapping.oadr.codes import OadrError, ResponseCode

METADATA = "METADATA"
#: the shortest period honoured: a VEN cannot make the VTN send its metadata more often than this
MIN_PERIOD = timedelta(seconds=1)


def plan(request: r.ReportRequest, now: datetime) -> dict[str, Any]:
    """The outbox payload of the first oadrRegisterReport answering `request`; 452 for a report not offered."""
    if request.report_specifier_id != METADATA:
        raise OadrError(
            ResponseCode.INVALID_ID,
            f"reportSpecifierID {request.report_specifier_id} is not offered by this VTN (it offers METADATA only)",
        )
    payload: dict[str, Any] = {"report_request_id": request.report_request_id}
    if request.report_back > timedelta(0):
        payload["every_s"] = max(request.report_back, MIN_PERIOD).total_seconds()
        end = request.interval_end
        if end is not None:
            payload["until"] = end.isoformat()
    start = request.interval_start
    if start is not None and start > now:
        payload["not_before"] = start.isoformat()  # its reportInterval has not begun
    return payload


def is_due(payload: dict[str, Any], now: datetime) -> bool:
    """Whether a queued item may go out now (items without `not_before` always may)."""
    not_before = payload.get("not_before")
    return not_before is None or datetime.fromisoformat(not_before) <= now


def is_expired(payload: dict[str, Any], now: datetime) -> bool:
    """A periodic request's next report whose request's interval is over by now: dropped, not sent."""
    until = payload.get("until")
    return is_periodic(payload) and until is not None and now >= datetime.fromisoformat(until)


def is_periodic(payload: dict[str, Any]) -> bool:
    """A periodic request's item (it is pending until its interval ends or it is cancelled)."""
    return "every_s" in payload


def following(payload: dict[str, Any], now: datetime) -> dict[str, Any] | None:
    """The payload of the oadrRegisterReport after the one just sent; None when the request is over."""
    if not is_periodic(payload):
        return None
    due = now + timedelta(seconds=payload["every_s"])
    until = payload.get("until")
    if until is not None and due >= datetime.fromisoformat(until):
        return None
    return {**payload, "not_before": due.isoformat()}
