"""Report requests the VEN never answered go out again as standalone oadrCreateReport (a leader job).

A VEN acknowledges a request with oadrCreatedReport. The EPRI VEN ignores requests piggy-backed on
oadrRegisteredReport, so they stayed `requested` for ever: one still unanswered `[reports] resend_after` after it was
last sent is queued again (the VEN's next poll, or a push), at most `resend_max` times; then it is marked
`unanswered`, which `cariflex reports list` and the VEN's page of the UI show. `mapping/oadr/report_followup.py`
decides.
"""

import logging
from datetime import datetime, timedelta
from typing import Any

from mapping.oadr.report_followup import Followup, followup
from vtn.context import VtnContext
from vtn.domain import OutboxItem, OutboxKind
from vtn.store import report_repository as reports
from vtn.store import repository as repo

log = logging.getLogger("cariflex.vtn.reports")

UNANSWERED = "unanswered"


def _follow_up(session: Any, now: datetime, after: timedelta, most: int) -> dict[str, list[OutboxItem]]:
    """Queue again or give up on every unanswered request that is due; returns the changed VENs' pending outboxes."""
    changed: set[str] = set()
    given_up: list[str] = []
    counted: dict[str, tuple[dict[str, int], set[str]]] = {}
    for ven_id, request_id, last_sent in reports.unanswered_requests(session):
        if ven_id not in counted:
            counted[ven_id] = reports.resends(session, ven_id)
        counts, queued = counted[ven_id]
        if request_id in queued:
            continue  # already on its way again
        step = followup(last_sent, counts.get(request_id, 0), now, after=after, most=most)
        if step is Followup.RESEND:
            payload = {"report_request_ids": [request_id], "resend": True}
            repo.enqueue(session, ven_id, OutboxKind.CREATE_REPORT, payload, now)
            queued.add(request_id)
            changed.add(ven_id)
            log.info("VEN %s has not answered report request %s: sending it again", ven_id, request_id)
        elif step is Followup.GIVE_UP:
            given_up.append(request_id)
            log.warning(
                "VEN %s never answered report request %s (sent %d times more): marked %s", ven_id, request_id, most, UNANSWERED
            )
    reports.set_request_state(session, given_up, UNANSWERED, now)
    outboxes: dict[str, list[OutboxItem]] = {ven_id: [] for ven_id in changed}
    for item in repo.pending_outbox(session, ven_ids=changed) if changed else []:
        outboxes[item.ven_id].append(item)
    return outboxes


async def resend_unanswered(ctx: VtnContext) -> int:
    """Queue again the unanswered report requests that are due (see the module); returns how many VENs got one."""
    config = ctx.config
    if config.report_resend_max <= 0:
        return 0
    outboxes = await ctx.store.call(_follow_up, ctx.now(), config.report_resend_after, config.report_resend_max)
    for ven_id, items in outboxes.items():
        ctx.live.set_outbox(ven_id, items)
    return len(outboxes)
