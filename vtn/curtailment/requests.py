"""Asking VENs what they achieved: once an event is over, each VEN it targeted that offers the
x-ACHIEVED_CURTAILMENT report is asked for it over the event's 15-minute intervals (one-shot).

The answers land in the report store like any report; `vtn.curtailment.query` reads them back per
event and per VEN. Cancelled events are not asked about.
"""

import logging
from datetime import datetime

from mapping.curtailment import event_slots
from mapping.curtailment import report as wire
from mapping.grid import QUARTER
from mapping.oadr.lifecycle import event_end
from vtn.admin import reports as report_admin
from vtn.context import VtnContext
from vtn.domain import LiveEvent, OutboxItem
from vtn.store import Conflict, Tx
from vtn.store import curtailment_repository as curtailed
from vtn.store import repository as repo

log = logging.getLogger("cariflex.vtn.curtailment")


def _ask(session: Tx, live: LiveEvent, ven_ids: list[str], now: datetime) -> dict[str, list[OutboxItem]]:
    """Request the report from every VEN of `ven_ids` that offers it; returns their pending outboxes."""
    event = live.event
    end = event_end(event.dtstart, event.duration)
    asked: list[str] = []
    if end is not None:
        slots = event_slots(event.dtstart, end)
        start, window = slots[0], len(slots) * QUARTER
        for ven_id in sorted(curtailed.offering(session, ven_ids)):
            try:
                request = report_admin.request_report(
                    session, ven_id, wire.REPORT_NAME, now, granularity=QUARTER, start=start, duration=window
                )
            except report_admin.ReportRefused as exc:
                log.warning("event %s: cannot ask VEN %s for its curtailment: %s", event.event_id, ven_id, exc)
                continue
            curtailed.record_request(session, event.event_id, ven_id, request.report_request_id, now)
            asked.append(ven_id)
    curtailed.record_scan(session, event.event_id, len(asked), now)
    outboxes: dict[str, list[OutboxItem]] = {ven_id: [] for ven_id in asked}
    for item in repo.pending_outbox(session, ven_ids=asked) if asked else []:
        outboxes[item.ven_id].append(item)
    return outboxes


async def request_due(ctx: VtnContext) -> int:
    """Ask about every event that ended since the last call (after the configured delay); returns how many requests."""
    now = ctx.now()
    config = ctx.config
    ended = await ctx.store.call(curtailed.ended_unscanned, now - config.curtailment_after, now - config.curtailment_lookback)
    made = 0
    for live in ended:
        ven_ids = [ven.ven_id for ven in ctx.live.targeted_vens(live.event)]
        try:
            outboxes = await ctx.store.call(_ask, live, ven_ids, now)
        except Conflict:
            log.info("event %s: another VTN process asked its VENs already", live.event.event_id)
            continue
        except Exception:  # one event's failure must not stop the others being asked; it is retried next round
            log.exception("event %s: asking its VENs for their curtailment failed; next round retries", live.event.event_id)
            continue
        for ven_id, items in outboxes.items():
            ctx.live.set_outbox(ven_id, items)
        made += len(outboxes)
        log.info("event %s ended: %d VEN(s) asked for their achieved curtailment", live.event.event_id, len(outboxes))
    return made
