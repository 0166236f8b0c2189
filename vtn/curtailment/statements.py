"""Issue settlement statements: per event, program, site or aggregator over a period, from the VTN's own figures.

`issue` gathers the events of the scope, takes each site's figures from `query.event_curtailment` (the
VTN's baselines by the program's method), turns them into lines under the program's rules
(`mapping.curtailment.settlement`) and writes the statement once, fingerprinted, with an audit-log
entry. A second statement over the same scope and period must say why (`reason`) and names the one it
supersedes; one identical to the latest is refused (nothing to re-issue).
"""

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from mapping.curtailment.settlement import (
    IntervalInput,
    SiteEvent,
    content_hash,
    line_dicts,
    statement_line,
    totals,
)
from mapping.oadr.timefmt import format_datetime
from mapping.refusal import Refused
from vtn.curtailment.query import EventCurtailment, SiteCurtailment, event_curtailment
from vtn.curtailment.settings import Settlement
from vtn.store import Tx
from vtn.store import statement_repository as statements
from vtn.store import ui_repository as users
from vtn.store.curtailment_models import SettlementStatement
from vtn.store.repository import find_ven_by_name, load_event

EVENT, PROGRAM, SITE, AGGREGATOR = "event", "program", "site", "aggregator"
SCOPES = (EVENT, PROGRAM, SITE, AGGREGATOR)


class StatementRefused(Refused):
    """A statement that cannot be issued: the field and why."""


@dataclass(frozen=True)
class Issued:
    """What `issue` wrote."""

    statement_id: str
    content_hash: str
    supersedes: str | None
    document: dict[str, Any]


def _status(site: SiteCurtailment) -> str:
    if "VEN claim" in site.sources:
        return "claimed"
    return "final" if site.final else "provisional"


def _site_event(found: EventCurtailment, site: SiteCurtailment) -> SiteEvent:
    intervals = tuple(
        IntervalInput(i.requested_kw, i.baseline_kw, i.measured_kw, i.achieved_kw, i.counted) for i in site.intervals
    )
    return SiteEvent(found.event_id, site.ven_name, found.method, _status(site), site.coverage, intervals)


def _targets(session: Tx, kind: str, key: str, start: datetime, end: datetime) -> list[tuple[str, str | None]]:
    """(event id, venID or None for every site) the scope covers."""
    if kind == EVENT:
        if load_event(session, key) is None:
            raise StatementRefused("event", f"no event {key}")
        return [(key, None)]
    if kind == PROGRAM:
        return [(event_id, None) for event_id in statements.events_of_program(session, key, start, end)]
    if kind == SITE:
        ven = find_ven_by_name(session, key)
        if ven is None:
            raise StatementRefused("site", f"no VEN named {key}")
        return [(event_id, ven.ven_id) for event_id in statements.events_of_ven(session, ven.ven_id, start, end)]
    if kind == AGGREGATOR:
        return list(statements.events_of_aggregator(session, key, start, end))
    raise StatementRefused("scope", f"{kind!r} is not one of {', '.join(SCOPES)}")


def _period(session: Tx, kind: str, key: str, start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    if kind == EVENT and (start is None or end is None):
        found = load_event(session, key)
        if found is None:
            raise StatementRefused("event", f"no event {key}")
        event = found[0].event
        return event.dtstart, event.dtstart + event.duration
    if start is None or end is None:
        raise StatementRefused("period", f"a {kind} statement covers a period: give its start and end")
    if end <= start:
        raise StatementRefused("period", f"ends {format_datetime(end)}, not after its start {format_datetime(start)}")
    return start, end


def build(session: Tx, settlement: Settlement, kind: str, key: str, start: datetime, end: datetime) -> dict[str, Any]:
    """The statement's content: scope, period, rules, lines, totals (what the fingerprint covers)."""
    lines = []
    for event_id, ven_id in _targets(session, kind, key, start, end):
        found = event_curtailment(session, event_id, ven_id, settlement)
        lines += [statement_line(_site_event(found, site), settlement.config.rules) for site in found.sites]
    return {
        "scope": {"kind": kind, "key": key},
        "period": {"start": format_datetime(start), "end": format_datetime(end)},
        "rules": asdict(settlement.config.rules),
        "lines": line_dicts(lines),
        "totals": totals(lines),
    }


def issue(
    session: Tx,
    settlement: Settlement,
    kind: str,
    key: str,
    actor: str,
    now: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
    reason: str | None = None,
) -> Issued:
    """Compute and write a statement (module docstring: re-issues need a reason)."""
    if kind not in SCOPES:
        raise StatementRefused("scope", f"{kind!r} is not one of {', '.join(SCOPES)}")
    start, end = _period(session, kind, key, start, end)
    document = build(session, settlement, kind, key, start, end)
    fingerprint = content_hash(document)
    previous = statements.latest_for_scope(session, kind, key, start, end)
    if previous is not None and previous.content_hash == fingerprint:
        raise StatementRefused("statement", f"unchanged since {previous.statement_id}: nothing to re-issue")
    if previous is not None and not (reason and reason.strip()):
        raise StatementRefused("reason", f"{previous.statement_id} covers this scope and period: say why it is re-issued")
    statement_id = f"st-{now:%Y%m%d}-{uuid.uuid4().hex[:10]}"
    row = statements.save_statement(
        session,
        statement_id=statement_id,
        scope_kind=kind,
        scope_key=key,
        period_start=start,
        period_end=end,
        issued_at=now,
        issued_by=actor,
        reason=(reason or None) and reason.strip()[:1024],
        supersedes=previous.statement_id if previous else None,
        content=document,
        content_hash=fingerprint,
    )
    detail = {"scope": f"{kind} {key}", "hash": fingerprint, "supersedes": row.supersedes, "reason": row.reason}
    users.audit(session, actor, "settlement issue", statement_id, detail, now)
    return Issued(statement_id, fingerprint, row.supersedes, document)


def as_document(row: SettlementStatement) -> dict[str, Any]:
    """The statement as served (JSON): who issued it when, what it replaces and why, its content and fingerprint."""
    return {
        "statement_id": row.statement_id,
        "issued_at": format_datetime(row.issued_at),
        "issued_by": row.issued_by,
        "supersedes": row.supersedes,
        "reason": row.reason,
        "content_hash": row.content_hash,
        "verified": content_hash(row.content) == row.content_hash,
        **row.content,
    }
