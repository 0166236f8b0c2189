"""Checks and answers several services share."""

from mapping.oadr import model as m
from mapping.oadr.codes import OadrError, ResponseCode
from vtn.context import VtnContext
from vtn.domain import VenRecord
from vtn.store import repository as repo


def ok(request_id: str | None) -> m.EiResponse:
    """A 200 OK echoing `request_id`."""
    return m.EiResponse(code=ResponseCode.OK, description="OK", request_id=request_id or "")


def registered_ven(ctx: VtnContext, ven_id: str | None) -> VenRecord:
    """The registered VEN `ven_id`, or a 463 refusal that tells the VEN what to do."""
    ven = ctx.live.vens.get(ven_id or "")
    if ven is None and ven_id and any(known.lower() == ven_id.lower() for known in ctx.live.vens):
        raise OadrError(ResponseCode.INVALID_ID, f"venID {ven_id!r} does not match the registered venID (case counts)")
    if ven is None:
        raise OadrError(
            ResponseCode.NOT_REGISTERED_OR_AUTHORIZED,
            f"venID {ven_id!r} is not known to this VTN; register with oadrCreatePartyRegistration first",
        )
    if not ven.registered:
        raise OadrError(
            ResponseCode.NOT_REGISTERED_OR_AUTHORIZED,
            f"venID {ven_id!r} has no active registration; register again with oadrCreatePartyRegistration",
        )
    ctx.seen[ven.ven_id] = ctx.now()
    return ven


async def check_event_of(ctx: VtnContext, ven: VenRecord, event: m.Event) -> None:
    """Refuse (452, as for an event it does not know) an answer of `ven` about `event` when the event is not its
    own: not for it now, and never given to it. Given once is enough: a VEN may answer an event it holds after a
    modification or a group change took it away (it learns so at its next poll)."""
    if ctx.live.targets(event, ven):
        return
    if any(key[0] == event.event_id for key in ctx.live.delivered.get(ven.ven_id, ())):
        return
    # another process may have given it (a cluster), or a restart forgot: the store's first deliveries say
    if any(ven_id == ven.ven_id for ven_id, _n, _at in await ctx.store.call(repo.event_deliveries, event.event_id)):
        return
    if any(d[0] == ven.ven_id and d[1] == event.event_id for d in ctx.deliveries):  # given, not yet written
        return
    raise OadrError(ResponseCode.INVALID_ID, f"eventID {event.event_id!r} is not an event of VEN {ven.ven_id}")
