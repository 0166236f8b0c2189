"""EiOpt: availability schedules and per-event opts, persisted and shown with events."""

import logging
from datetime import timedelta

from mapping.oadr import model as m
from mapping.oadr import report_model as r
from mapping.oadr.codes import OadrError, ResponseCode
from vtn.context import VtnContext
from vtn.oadr.services.common import check_event_of, ok, registered_ven
from vtn.ops.metrics import OPT_RESPONSES
from vtn.store import report_repository as store
from vtn.store import repository as repo

log = logging.getLogger("cariflex.vtn.opt")


async def create_opt(ctx: VtnContext, msg: r.CreateOpt) -> m.Acknowledgement:
    """Record an opt-in/out schedule or an opt on one event; an optID sent again replaces that opt."""
    ven = registered_ven(ctx, msg.ven_id)
    if msg.event_id is None and not msg.windows:
        raise OadrError(ResponseCode.INVALID_DATA, "an opt needs a qualifiedEventID or a vavailability schedule")
    if any(length < timedelta(0) for _start, length in msg.windows):
        raise OadrError(ResponseCode.INVALID_DATA, "an availability window cannot have a negative duration (0 means open-ended)")
    if msg.event_id is not None:
        live = ctx.live.events.get(msg.event_id)
        found = live or (await ctx.store.call(repo.load_event, msg.event_id) or (None,))[0]
        if found is None:
            raise OadrError(ResponseCode.INVALID_ID, f"eventID {msg.event_id!r} is not known to this VTN")
        if msg.modification_number is not None and msg.modification_number > found.event.modification_number:
            raise OadrError(ResponseCode.INVALID_ID, f"event {msg.event_id} has no modification {msg.modification_number}")
        await check_event_of(ctx, ven, found.event)
    replaced = await ctx.store.call(store.save_opt, msg, ctx.now())
    ctx.tally.inc(OPT_RESPONSES, ("oadrCreateOpt", msg.opt_type))
    what = f"event {msg.event_id}" if msg.event_id else f"{len(msg.windows)} windows"
    log.info(
        "VEN %s: %s %s (%s)%s",
        ven.ven_id,
        msg.opt_type,
        what,
        msg.opt_reason,
        "; replaces the opt of that optID" if replaced else "",
    )
    return m.Acknowledgement(name="oadrCreatedOpt", response=ok(msg.request_id), opt_id=msg.opt_id)


async def cancel_opt(ctx: VtnContext, msg: r.CancelOpt) -> m.Acknowledgement:
    """Cancel an opt the VEN created; an unknown optID gets 452."""
    ven = registered_ven(ctx, msg.ven_id)
    if not await ctx.store.call(store.cancel_opt, ven.ven_id, msg.opt_id, ctx.now()):
        raise OadrError(ResponseCode.INVALID_ID, f"optID {msg.opt_id!r} is not an active opt of {ven.ven_id}")
    log.info("VEN %s cancelled opt %s", ven.ven_id, msg.opt_id)
    return m.Acknowledgement(name="oadrCanceledOpt", response=ok(msg.request_id), opt_id=msg.opt_id)
