"""EiEvent: oadrRequestEvent and oadrCreatedEvent, and the distribution both share with polling."""

import logging

from mapping.oadr import model as m
from mapping.oadr.codes import OadrError, ResponseCode
from mapping.oadr.encode import encode_distribute_event
from vtn.context import VtnContext, new_id
from vtn.domain import LiveEvent, VenRecord
from vtn.oadr.services.common import check_event_of, ok, registered_ven
from vtn.ops.metrics import OPT_RESPONSES
from vtn.store import repository as repo

log = logging.getLogger("cariflex.vtn.events")


def encode_events(ctx: VtnContext, events: list[LiveEvent], response: m.EiResponse | None = None) -> bytes:
    """An oadrDistributeEvent of `events` as of now — each signal's currentValue that of its interval in force —
    (nothing is noted as delivered)."""
    now = ctx.now()
    return encode_distribute_event(ctx.config.vtn_id, new_id("req"), (ctx.live.fragment(e, now) for e in events), response)


def note_distribution(ctx: VtnContext, ven: VenRecord, events: list[LiveEvent]) -> None:
    """Remember that `ven` now holds `events` (as of this modification and status)."""
    now = ctx.now()
    for live in events:
        ctx.note_delivery(ven.ven_id, live.event.event_id, live.event.modification_number, now)
    ctx.live.delivered[ven.ven_id] = tuple(e.key for e in events)


def distribute(ctx: VtnContext, ven: VenRecord, events: list[LiveEvent], response: m.EiResponse | None = None) -> bytes:
    """Encode an oadrDistributeEvent of `events` for `ven`, and note what it was given."""
    note_distribution(ctx, ven, events)
    return encode_events(ctx, events, response)


async def request_event(ctx: VtnContext, msg: m.RequestEvent) -> bytes:
    """Every pending and active event for the VEN (up to replyLimit), highest priority first."""
    ven = registered_ven(ctx, msg.ven_id)
    await ctx.catch_up()  # the VEN may have been given newer events by another process
    events = ctx.live.events_for(ven)
    if msg.reply_limit is not None:
        events = events[: msg.reply_limit]
    return distribute(ctx, ven, events, ok(msg.request_id))


async def created_event(ctx: VtnContext, msg: m.CreatedEvent) -> m.Response:
    """Record a VEN's optIn/optOut per event and modification; all or nothing."""
    ven = registered_ven(ctx, msg.ven_id)
    for r in msg.event_responses:
        live = ctx.live.events.get(r.event_id)
        if live is None or r.modification_number > live.event.modification_number:  # unknown here, or newer elsewhere
            found = await ctx.store.call(repo.load_event, r.event_id)
            live = found[0] if found else None
        if live is None:
            raise OadrError(ResponseCode.INVALID_ID, f"eventID {r.event_id!r} is not known to this VTN")
        if r.modification_number > live.event.modification_number:
            raise OadrError(
                ResponseCode.INVALID_ID,
                f"event {r.event_id} has no modification {r.modification_number} (latest is {live.event.modification_number})",
            )
        await check_event_of(ctx, ven, live.event)
    if msg.event_responses:
        await ctx.writes.call(repo.record_event_responses, ven.ven_id, msg.event_responses, ctx.now())
        for r in msg.event_responses:
            ctx.live.acknowledge(ven.ven_id, r.event_id, r.modification_number)
            ctx.tally.inc(OPT_RESPONSES, ("oadrCreatedEvent", r.opt_type))
            log.info("VEN %s: %s event %s modification %s", ven.ven_id, r.opt_type, r.event_id, r.modification_number)
    return m.Response(response=ok(msg.response.request_id), ven_id=ven.ven_id)
