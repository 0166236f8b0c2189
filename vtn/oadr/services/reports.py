"""EiReport: report registration both ways, requests, data ingest, cancellation."""

import logging
from datetime import datetime
from typing import Any

from mapping.curtailment.report import has_value
from mapping.oadr import model as m
from mapping.oadr import report_model as r
from mapping.oadr import vtn_reports
from mapping.oadr.codes import OadrError, ResponseCode
from vtn.admin import reports as report_admin
from vtn.context import VtnContext, new_id
from vtn.domain import OutboxItem, OutboxKind
from vtn.oadr.services.common import ok, registered_ven
from vtn.ops import metrics
from vtn.store import report_repository as reports
from vtn.store import repository as repo

log = logging.getLogger("cariflex.vtn.reports")


async def register_report(ctx: VtnContext, msg: r.RegisterReport) -> r.RegisteredReport:
    """Store a VEN's report metadata and answer, piggy-backing the configured report requests."""
    ven = registered_ven(ctx, msg.ven_id)
    for report in msg.reports:
        r_ids = [d.r_id for d in report.descriptions]
        if len(set(r_ids)) != len(r_ids):
            raise OadrError(ResponseCode.INVALID_DATA, f"report {report.report_specifier_id} lists an rID twice")
    now = ctx.now()
    requests = await ctx.store.call(_register, ven.ven_id, msg.reports, ctx.config.auto_reports, now)
    ctx.live.offered.pop(ven.ven_id, None)
    ctx.live.report_owner.update({q.report_request_id: ven.ven_id for q in requests})
    log.info("VEN %s registered %d reports; requesting %d", ven.ven_id, len(msg.reports), len(requests))
    return r.RegisteredReport(response=ok(msg.request_id), ven_id=ven.ven_id, report_requests=tuple(requests))


def _register(
    session: Any, ven_id: str, metadata: tuple[r.ReportMetadata, ...], auto: tuple, now: datetime
) -> list[r.ReportRequest]:
    reports.replace_descriptions(session, ven_id, metadata, now)
    session.flush()
    requests = []
    for wanted in auto:
        try:
            request = report_admin.build_request(
                session, ven_id, wanted.report_name, now, granularity=wanted.granularity, report_back=wanted.report_back
            )
        except report_admin.ReportRefused:
            continue  # the VEN does not offer it
        reports.save_request(session, ven_id, request, wanted.report_name, "requested", now)
        requests.append(request)
    return requests


def _derive_points(ven_id: str, report: r.ReportData, reading_types: dict[str, str]) -> list[dict[str, Any]]:
    """Rows for every payload, with interval start times derived where missing; refuses bad order."""
    rows: list[dict[str, Any]] = []
    cursor, previous = report.dtstart, None
    for index, interval in enumerate(report.intervals):
        start = interval.dtstart or cursor
        if start is None:
            raise OadrError(
                ResponseCode.INVALID_DATA,
                f"report {report.report_request_id}: interval {index} has no dtstart and the report has none to derive it from",
            )
        if previous is not None and start < previous:
            raise OadrError(
                ResponseCode.INVALID_DATA,
                f"report {report.report_request_id}: intervals are out of time order at interval {index}",
            )
        previous = start
        try:
            cursor = start + interval.duration if interval.duration is not None else None
        except OverflowError:  # a derived start: the edge checks only the times a message writes out
            raise OadrError(
                ResponseCode.INVALID_DATA,
                f"report {report.report_request_id}: interval {index} ends after year {datetime.max.year}",
            ) from None
        for p in interval.payloads:
            rows.append(
                {
                    "report_request_id": report.report_request_id,
                    "report_specifier_id": report.report_specifier_id,
                    "report_name": report.report_name,
                    "r_id": p.r_id,
                    "reading_type": reading_types.get(p.r_id),
                    "dtstart": start,
                    "duration_s": interval.duration.total_seconds() if interval.duration is not None else None,
                    "value": p.value if has_value(p.data_quality) else None,  # "No Quality - No Value": a placeholder
                    "status": {
                        "online": p.status.online,
                        "manual_override": p.status.manual_override,
                        "load_control": p.status.load_control,
                    }
                    if p.status
                    else None,
                    "confidence": p.confidence,
                    "accuracy": p.accuracy,
                    "data_quality": p.data_quality,
                }
            )
    return rows


async def _checked_points(ctx: VtnContext, ven_id: str, msg: r.UpdateReport) -> list[dict[str, Any]]:
    """Validate every report of the message (from memory, loading what is missing once) and derive its rows."""
    live = ctx.live
    unknown = [x.report_request_id for x in msg.reports if x.report_request_id not in live.report_owner]
    if unknown:
        live.report_owner.update(await ctx.store.call(reports.request_owners, unknown))
    if ven_id not in live.offered:
        live.offered[ven_id] = await ctx.store.call(reports.offered_reading_types, ven_id)
    offered = live.offered[ven_id]
    specs_offered = {spec for spec, _ in offered}
    rows: list[dict[str, Any]] = []
    for report in msg.reports:
        if live.report_owner.get(report.report_request_id) != ven_id:
            raise OadrError(
                ResponseCode.INVALID_ID,
                f"reportRequestID {report.report_request_id!r} is not a request this VTN made to {ven_id}",
            )
        spec = report.report_specifier_id
        if spec in specs_offered:
            for interval in report.intervals:
                for p in interval.payloads:
                    if (spec, p.r_id) not in offered:
                        raise OadrError(ResponseCode.INVALID_ID, f"rID {p.r_id!r} is not registered in report {spec}")
        reading_types = {r_id: reading for (s, r_id), reading in offered.items() if s == spec}
        rows.extend(_derive_points(ven_id, report, reading_types))
    return rows


async def update_report(ctx: VtnContext, msg: r.UpdateReport) -> r.UpdatedReport:
    """Store reported data whole or not at all; piggy-back a pending cancellation of those requests."""
    ven = registered_ven(ctx, msg.ven_id)
    rows = await _checked_points(ctx, ven.ven_id, msg)
    stored, duplicates = await ctx.ingest.submit(ven.ven_id, rows)
    ctx.tally.inc(metrics.REPORTS_RECEIVED, by=len(msg.reports))
    ctx.tally.inc(metrics.REPORT_VALUES, ("stored",), stored)
    ctx.tally.inc(metrics.REPORT_VALUES, ("duplicate",), duplicates)
    description = f"OK: stored {stored} values" + (f", {duplicates} already stored" if duplicates else "")
    cancel = await _piggy_back_cancel(ctx, ven.ven_id, {x.report_request_id for x in msg.reports})
    return r.UpdatedReport(response=m.EiResponse(200, description, msg.request_id), ven_id=ven.ven_id, cancel=cancel)


async def _piggy_back_cancel(ctx: VtnContext, ven_id: str, request_ids: set[str]) -> r.CancelReport | None:
    for item in list(ctx.live.outbox.get(ven_id, [])):
        if item.kind == OutboxKind.CANCEL_REPORT and request_ids & set(item.payload.get("report_request_ids", [])):
            if await ctx.store.call(repo.claim_outbox, item.id, ctx.now()):
                ctx.live.drop_outbox_item(item)
                log.info(
                    "piggy-backing oadrCancelReport %s on oadrUpdatedReport to %s", item.payload["report_request_ids"], ven_id
                )
                return cancel_message(ven_id, item.payload)
            ctx.live.drop_outbox_item(item)
    return None


def cancel_message(ven_id: str, payload: dict[str, Any]) -> r.CancelReport:
    """The oadrCancelReport for a queued cancellation."""
    return r.CancelReport(
        request_id=new_id("req"),
        report_request_ids=tuple(payload["report_request_ids"]),
        report_to_follow=bool(payload.get("report_to_follow")),
        ven_id=ven_id,
    )


async def registered_report(ctx: VtnContext, msg: r.RegisteredReport) -> m.Response:
    """The VEN acknowledges the VTN's oadrRegisterReport. Requests piggy-backed on it are not taken (a VEN asks
    for the VTN's METADATA report with a standalone oadrCreateReport: `create_report`)."""
    ven = registered_ven(ctx, msg.ven_id)
    if msg.report_requests:
        log.info(
            "VEN %s piggy-backed %d report request(s) on oadrRegisteredReport: not taken (send oadrCreateReport)",
            ven.ven_id,
            len(msg.report_requests),
        )
    return m.Response(response=ok(msg.response.request_id), ven_id=ven.ven_id)


async def created_report(ctx: VtnContext, msg: m.Acknowledgement) -> m.Response:
    """The VEN acknowledges an oadrCreateReport; its pending reports are recorded."""
    ven = registered_ven(ctx, msg.ven_id)
    if msg.response.code == ResponseCode.OK:
        await ctx.store.call(reports.set_request_state, msg.pending_reports, "acknowledged", ctx.now())
    else:
        log.warning("VEN %s refused a report request: %s %s", ven.ven_id, msg.response.code, msg.response.description)
    return m.Response(response=ok(msg.response.request_id), ven_id=ven.ven_id)


async def canceled_report(ctx: VtnContext, msg: m.Acknowledgement) -> m.Response:
    """The VEN acknowledges an oadrCancelReport: requests being cancelled and no longer pending are done."""
    ven = registered_ven(ctx, msg.ven_id)
    await ctx.store.call(_finish_cancellations, ven.ven_id, set(msg.pending_reports), ctx.now())
    return m.Response(response=ok(msg.response.request_id), ven_id=ven.ven_id)


def _finish_cancellations(session: Any, ven_id: str, still_pending: set[str], now: datetime) -> None:
    done = [
        req.report_request_id
        for v, req, _n, state in reports.list_requests(session, ven_id)
        if state == "cancelling" and req.report_request_id not in still_pending
    ]
    reports.set_request_state(session, done, "cancelled", now)


def _vtn_requests(ctx: VtnContext, ven_id: str) -> dict[str, list[OutboxItem]]:
    """The VEN's requests for the VTN's METADATA report still queued, by reportRequestID (mapping/oadr/vtn_reports)."""
    found: dict[str, list[OutboxItem]] = {}
    for item in ctx.live.outbox.get(ven_id, []):
        request_id = item.payload.get("report_request_id")
        if item.kind == OutboxKind.REGISTER_REPORT and request_id:
            found.setdefault(request_id, []).append(item)
    return found


def _pending_vtn_requests(ctx: VtnContext, ven_id: str) -> tuple[str, ...]:
    """oadrPendingReports of the VTN: the VEN's periodic requests not over yet."""
    return tuple(
        request_id
        for request_id, items in _vtn_requests(ctx, ven_id).items()
        if any(vtn_reports.is_periodic(i.payload) for i in items)
    )


def _queue_vtn_reports(
    session: Any, ven_id: str, payloads: list[dict[str, Any]], claimed: list[int], now: datetime
) -> list[OutboxItem]:
    for item_id in claimed:
        repo.claim_outbox(session, item_id, now)
    for payload in payloads:
        repo.enqueue(session, ven_id, OutboxKind.REGISTER_REPORT, payload, now)
    session.flush()
    return repo.pending_outbox(session, ven_id)


async def create_report(ctx: VtnContext, msg: r.CreateReport) -> m.Acknowledgement:
    """A VEN asks the VTN for its METADATA report (the only report this VTN offers; 452 for anything else):
    its oadrRegisterReport goes out at the VEN's next poll, and for a periodic request every
    reportBackDuration until the request's interval ends or the VEN cancels it. Answers oadrCreatedReport
    with the VEN's periodic requests still pending."""
    ven = registered_ven(ctx, msg.ven_id)
    now = ctx.now()
    known = _vtn_requests(ctx, ven.ven_id)
    payloads = []
    for request in msg.report_requests:
        if request.report_request_id in known:
            raise OadrError(ResponseCode.INVALID_ID, f"reportRequestID {request.report_request_id} is already pending")
        payloads.append(vtn_reports.plan(request, now))
    pending = await ctx.store.call(_queue_vtn_reports, ven.ven_id, payloads, [], now)
    ctx.live.set_outbox(ven.ven_id, pending)
    log.info("VEN %s asked for the VTN's METADATA report: %s", ven.ven_id, [p["report_request_id"] for p in payloads])
    return m.Acknowledgement(
        "oadrCreatedReport", ok(msg.request_id), ven_id=ven.ven_id, pending_reports=_pending_vtn_requests(ctx, ven.ven_id)
    )


async def cancel_report(ctx: VtnContext, msg: r.CancelReport) -> m.Acknowledgement:
    """A VEN cancels requests it made for the VTN's METADATA report (unknown reportRequestID → 452); with
    reportToFollow one last oadrRegisterReport goes out. Answers oadrCanceledReport with what is still pending."""
    ven = registered_ven(ctx, msg.ven_id)
    known = _vtn_requests(ctx, ven.ven_id)
    unknown = [i for i in msg.report_request_ids if i not in known]
    if unknown:
        raise OadrError(ResponseCode.INVALID_ID, f"reportRequestID {', '.join(unknown)} is not a request made to this VTN")
    claimed = [item.id for i in msg.report_request_ids for item in known[i]]
    final = [{"report_request_id": i} for i in msg.report_request_ids] if msg.report_to_follow else []
    pending = await ctx.store.call(_queue_vtn_reports, ven.ven_id, final, claimed, ctx.now())
    ctx.live.set_outbox(ven.ven_id, pending)
    log.info("VEN %s cancelled its request(s) %s for the VTN's METADATA report", ven.ven_id, list(msg.report_request_ids))
    return m.Acknowledgement(
        "oadrCanceledReport", ok(msg.request_id), ven_id=ven.ven_id, pending_reports=_pending_vtn_requests(ctx, ven.ven_id)
    )


async def follow_vtn_report(ctx: VtnContext, ven_id: str, payload: dict[str, Any]) -> None:
    """After a periodic request's oadrRegisterReport went out: queue the next one (none once it is over)."""
    following = vtn_reports.following(payload, ctx.now())
    if following is not None:
        pending = await ctx.store.call(_queue_vtn_reports, ven_id, [following], [], ctx.now())
        ctx.live.set_outbox(ven_id, pending)


async def updated_report(ctx: VtnContext, msg: r.UpdatedReport) -> m.Response:
    """Acknowledgement of a VTN-sent oadrUpdateReport (this VTN sends none; accepted and logged)."""
    ven = registered_ven(ctx, msg.ven_id)
    return m.Response(response=ok(msg.response.request_id), ven_id=ven.ven_id)
