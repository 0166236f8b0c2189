"""OadrPoll: one message per poll — queued VTN requests first, then changed events, else oadrResponse."""

import logging

from mapping.oadr import model as m
from mapping.oadr import report_model as r
from mapping.oadr import vtn_reports
from mapping.oadr.codes import OadrError, ResponseCode
from mapping.oadr.encode import encode, encode_ok_response
from vtn.context import VtnContext, new_id
from vtn.domain import OUTBOX_WIRE, OutboxItem, OutboxKind, VenRecord
from vtn.oadr.services.common import registered_ven
from vtn.oadr.services.events import distribute
from vtn.oadr.services.registration import cancel_registration_of
from vtn.oadr.services.reports import cancel_message, follow_vtn_report
from vtn.ops.metrics import POLL_ANSWERS, POLL_DEFERRALS
from vtn.store import report_repository
from vtn.store import repository as repo

log = logging.getLogger("cariflex.vtn.poll")


async def outbox_message(ctx: VtnContext, ven: VenRecord, item: OutboxItem) -> m.Message | r.ReportMessage:
    """The message a queued item stands for (nothing is changed: see `after_outbox_delivery`)."""
    if item.kind == OutboxKind.CANCEL_REGISTRATION:
        registration_id = item.payload.get("registration_id") or ven.registration_id or ""
        return m.CancelPartyRegistration(request_id=new_id("req"), registration_id=registration_id, ven_id=ven.ven_id)
    if item.kind == OutboxKind.REQUEST_REREGISTRATION:
        return m.RequestReregistration(ven_id=ven.ven_id)
    if item.kind == OutboxKind.REGISTER_REPORT:
        # the VTN's METADATA report: it offers no data reports of its own, so the registration lists none, as the
        # profile allows; one that answers a VEN's request for it names that request (mapping/oadr/vtn_reports)
        return r.RegisterReport(
            request_id=new_id("req"),
            reports=(),
            ven_id=ven.ven_id,
            report_request_id=item.payload.get("report_request_id"),
        )
    if item.kind == OutboxKind.CREATE_REPORT:
        ids = item.payload["report_request_ids"]
        found = await ctx.store.call(report_repository.requests_by_id, ids)
        return r.CreateReport(
            request_id=new_id("req"), report_requests=tuple(found[i][1] for i in ids if i in found), ven_id=ven.ven_id
        )
    if item.kind == OutboxKind.CANCEL_REPORT:
        return cancel_message(ven.ven_id, item.payload)
    raise ValueError(f"outbox item {item.id} has unknown kind {item.kind!r}")


async def after_outbox_delivery(ctx: VtnContext, ven: VenRecord, item: OutboxItem) -> None:
    """What delivering a queued item changes: a cancelled registration, requests now made."""
    if item.kind == OutboxKind.CANCEL_REGISTRATION:
        await cancel_registration_of(ctx, ven)
    elif item.kind == OutboxKind.CREATE_REPORT:
        await ctx.store.call(report_repository.set_request_state, item.payload["report_request_ids"], "requested", ctx.now())
    elif item.kind == OutboxKind.REGISTER_REPORT and vtn_reports.is_periodic(item.payload):
        await follow_vtn_report(ctx, ven.ven_id, item.payload)


async def after_outbox_refusal(ctx: VtnContext, ven: VenRecord, item: OutboxItem) -> None:
    """What still holds when a queued item is dropped undelivered (the VEN refused it for good): a
    registration the VTN cancels ends all the same — the VTN decides who is registered, and the VEN
    learns it at its next request — while a report request is not marked requested."""
    if item.kind == OutboxKind.CANCEL_REGISTRATION:
        log.warning("VEN %s refused its oadrCancelPartyRegistration: the registration ends all the same", ven.ven_id)
        await cancel_registration_of(ctx, ven)


async def claim_queued(ctx: VtnContext, item: OutboxItem) -> bool:
    """Take a queued item off the queue (store and cache); False when another process had taken it already."""
    claimed = await ctx.writes.call(repo.claim_outbox, item.id, ctx.now())
    ctx.live.drop_outbox_item(item)
    return claimed


#: while this many small writes are under way or waiting (vtn/store/group_commit.py), a poll does not take a
#: queued message: it answers at once as if nothing were queued, and the VEN takes it at a later poll. In a
#: burst (a message queued for every VEN) the deliveries spread over poll cycles instead of every poll
#: waiting behind the whole burst's writes (issue 22, finding 3).
QUEUED_DELIVERY_BACKLOG = 64


async def _next_queued(ctx: VtnContext, ven: VenRecord) -> m.Message | r.ReportMessage | None:
    backed_up = ctx.writes.backlog >= QUEUED_DELIVERY_BACKLOG
    # a VEN no longer registered still gets its queued message (a cancellation of its registration) at once
    if backed_up and ven.registered and ctx.live.next_outbox(ven.ven_id, ctx.now()) is not None:
        ctx.tally.inc(POLL_DEFERRALS)
        return None
    while (item := ctx.live.next_outbox(ven.ven_id, ctx.now())) is not None:
        if item.kind == OutboxKind.REGISTER_REPORT and vtn_reports.is_expired(item.payload, ctx.now()):
            await claim_queued(ctx, item)  # its request's interval ended before the VEN came for it
            continue
        if await claim_queued(ctx, item):
            log.info("delivering queued %s to VEN %s", item.kind, ven.ven_id)
            message = await outbox_message(ctx, ven, item)
            await after_outbox_delivery(ctx, ven, item)
            ctx.tally.inc(POLL_ANSWERS, (OUTBOX_WIRE[item.kind][0],))
            return message
    return None


async def poll(ctx: VtnContext, msg: m.Poll) -> bytes:
    """Answer a poll with the single most urgent thing the VEN has not received yet."""
    ven = ctx.live.vens.get(msg.ven_id)
    if ven is None:
        raise OadrError(
            ResponseCode.NOT_REGISTERED_OR_AUTHORIZED, f"venID {msg.ven_id!r} is not known to this VTN; register first"
        )
    ctx.seen[ven.ven_id] = ctx.now()
    # A VTN-initiated cancellation is delivered even though it ends the registration.
    queued = await _next_queued(ctx, ven)
    if queued is not None:
        return encode(queued)
    ven = registered_ven(ctx, msg.ven_id)
    events = ctx.live.events_for(ven)
    if ctx.live.needs_distribution(ven.ven_id, events):
        # another process may have given this VEN newer events than this cache holds: never go backwards
        await ctx.catch_up()
        events = ctx.live.events_for(ven)
        if ctx.live.needs_distribution(ven.ven_id, events):
            ctx.tally.inc(POLL_ANSWERS, ("oadrDistributeEvent",))
            return distribute(ctx, ven, events)
    ctx.tally.inc(POLL_ANSWERS, ("oadrResponse",))
    return encode_ok_response(ven.ven_id)
