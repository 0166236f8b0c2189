"""Operator actions, each behind a confirmation page and recorded in the audit log in the same
transaction as the change: cancel an event, request a report, request re-registration."""

from datetime import datetime, timedelta
from urllib.parse import quote, urlencode

from aiohttp import web

from mapping.oadr.codes import OadrError
from mapping.oadr.timefmt import format_duration, parse_duration
from vtn.admin import events as event_admin
from vtn.admin import reports as report_admin
from vtn.domain import OutboxKind
from vtn.store import Tx
from vtn.store import event_log as log
from vtn.store import repository as repo
from vtn.store import ui_repository as users
from vtn.ui.auth import require_operator
from vtn.ui.state import render, state


def add_routes(router: web.UrlDispatcher) -> None:
    """Register the confirmation pages and the actions."""
    router.add_get("/events/{event_id}/cancel", confirm_cancel)
    router.add_post("/events/{event_id}/cancel", cancel)
    router.add_get("/vens/{ven_id}/reregister", confirm_reregister)
    router.add_post("/vens/{ven_id}/reregister", reregister)
    router.add_get("/vens/{ven_id}/request-report", confirm_report)
    router.add_post("/vens/{ven_id}/request-report", request_report)


def done(path: str, notice: str) -> web.HTTPSeeOther:
    """A redirect to `path` that shows `notice` there."""
    return web.HTTPSeeOther(f"{path}?{urlencode({'notice': notice})}")


# --- cancel an event ------------------------------------------------------------------------


def cancel_and_audit(session: Tx, event_id: str, now: datetime, reason: str, username: str) -> int:
    """Cancel the event (vtn.admin.events records who did it); the new modificationNumber."""
    return event_admin.cancel_event(session, event_id, now, reason, actor=username).modification_number


def _segment(value: str) -> str:
    """`value` as one URL path segment (an id with / or # in it cannot point a form elsewhere)."""
    return quote(value, safe="")


#: the page of what an action is about, by the path parameter naming it
_PAGES = {"event_id": "/ui/events", "ven_id": "/ui/vens"}


def page_of(field: str, value: str) -> str:
    """The UI page of an event or VEN (the id as one URL segment)."""
    return f"{_PAGES[field]}/{_segment(value)}"


async def _confirmation(
    request: web.Request, field: str, *, title: str, question: str, action: str, fields: list[tuple[str, str, str]], button: str
) -> web.Response:
    """The confirmation page of an operator action on the event or VEN named by `field` (404 naming the
    field when it does not exist; only operators get here)."""
    require_operator(request)
    value = request.match_info[field]
    ui = state(request)
    found = await ui.store.call(log.event_meta, value) if field == "event_id" else await ui.store.call(repo.load_ven, value)
    if found is None:
        raise web.HTTPNotFound(text=f"{field}: no {'event' if field == 'event_id' else 'VEN'} {value}")
    path = page_of(field, value)
    return render(
        request,
        "confirm.html",
        title=title,
        question=question.format(id=value),
        action=f"{path}/{action}",
        fields=fields,
        button=button,
        back=path,
    )


async def confirm_cancel(request: web.Request) -> web.Response:
    """GET — ask before cancelling."""
    return await _confirmation(
        request,
        "event_id",
        title="Cancel event",
        question="Cancel event {id}? Every VEN it was sent to receives the cancellation at its next poll, or by push.",
        action="cancel",
        fields=[("reason", "Reason", "cancelled by operator")],
        button="Cancel the event",
    )


async def cancel(request: web.Request) -> web.Response:
    """POST — cancel (through vtn.admin.events, like the CLI)."""
    operator = require_operator(request)
    ui = state(request)
    event_id = request.match_info["event_id"]
    reason = str((await request.post()).get("reason", "")).strip() or "cancelled by operator"
    try:
        number = await ui.store.call(cancel_and_audit, event_id, ui.now(), reason, operator.username)
    except event_admin.EventRefused as exc:
        raise web.HTTPConflict(text=f"event_id: {exc}") from exc
    raise done(
        page_of("event_id", event_id), f"Event cancelled (modification {number}); VENs get it at their next poll or by push."
    )


# --- request re-registration ------------------------------------------------------------------


def reregister_and_audit(session: Tx, ven_id: str, now: datetime, username: str) -> None:
    """Queue oadrRequestReregistration and record who asked."""
    ven = repo.load_ven(session, ven_id)
    if ven is None or not ven.registered:
        raise LookupError(f"VEN {ven_id} is not registered")
    repo.enqueue(session, ven_id, OutboxKind.REQUEST_REREGISTRATION, {"registration_id": ven.registration_id}, now)
    users.audit(session, username, OutboxKind.REQUEST_REREGISTRATION, ven_id, {}, now)


async def confirm_reregister(request: web.Request) -> web.Response:
    """GET — ask before requesting re-registration."""
    return await _confirmation(
        request,
        "ven_id",
        title="Request re-registration",
        question="Ask VEN {id} to register again (oadrRequestReregistration at its next poll, or by push)?",
        action="reregister",
        fields=[],
        button="Request re-registration",
    )


async def reregister(request: web.Request) -> web.Response:
    """POST — queue the request."""
    operator = require_operator(request)
    ui = state(request)
    ven_id = request.match_info["ven_id"]
    try:
        await ui.store.call(reregister_and_audit, ven_id, ui.now(), operator.username)
    except LookupError as exc:
        raise web.HTTPConflict(text=f"ven_id: {exc.args[0]}") from exc
    raise done(page_of("ven_id", ven_id), "Re-registration requested; the VEN gets it at its next poll, or by push.")


# --- request a report -----------------------------------------------------------------------


def report_and_audit(
    session: Tx, ven_id: str, report_name: str, granularity: timedelta, report_back: timedelta, now: datetime, username: str
) -> str:
    """Store and queue a report request (vtn.admin.reports) and record who asked; the reportRequestID."""
    request = report_admin.request_report(session, ven_id, report_name, now, granularity=granularity, report_back=report_back)
    detail = {"report": report_name, "report_request_id": request.report_request_id, "granularity": format_duration(granularity)}
    users.audit(session, username, "request_report", ven_id, detail, now)
    return request.report_request_id


async def confirm_report(request: web.Request) -> web.Response:
    """GET — the request's parameters, to confirm."""
    return await _confirmation(
        request,
        "ven_id",
        title="Request a report",
        question="Ask VEN {id} for a report (oadrCreateReport at its next poll, or by push)? "
        "PT0S for both durations asks for one report now.",
        action="request-report",
        fields=[
            ("report", "Report", "TELEMETRY_USAGE"),
            ("granularity", "Granularity", "PT1M"),
            ("report_back", "Report back", "PT5M"),
        ],
        button="Request the report",
    )


def _duration(form: dict[str, str], key: str) -> timedelta:
    try:
        return parse_duration(form.get(key, "").strip() or "PT0S")
    except (OadrError, OverflowError) as exc:  # OverflowError: P99999999999D does not fit a timedelta
        raise web.HTTPBadRequest(text=f"{key}: expected an ISO 8601 duration such as PT1M, got {form.get(key)!r}") from exc


async def request_report(request: web.Request) -> web.Response:
    """POST — store and queue the request."""
    operator = require_operator(request)
    ui = state(request)
    ven_id = request.match_info["ven_id"]
    form = {k: str(v) for k, v in (await request.post()).items()}
    report_name = form.get("report", "").strip()
    if not report_name:
        raise web.HTTPBadRequest(text="report: a report name is needed, e.g. TELEMETRY_USAGE")
    granularity, back = _duration(form, "granularity"), _duration(form, "report_back")
    try:
        request_id = await ui.store.call(report_and_audit, ven_id, report_name, granularity, back, ui.now(), operator.username)
    except report_admin.ReportRefused as exc:
        raise web.HTTPConflict(text=f"report: {exc}") from exc
    raise done(
        page_of("ven_id", ven_id), f"Report {report_name} requested ({request_id}); the VEN gets it at its next poll, or by push."
    )
