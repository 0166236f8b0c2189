"""Checks and answers several services share."""

from mapping.oadr import model as m
from mapping.oadr.codes import OadrError, ResponseCode
from vtn.context import VtnContext
from vtn.domain import VenRecord


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
