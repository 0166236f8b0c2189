"""EiRegisterParty: query, create (and re-create), cancel registrations."""

import logging
from dataclasses import replace
from datetime import datetime
from urllib.parse import urlsplit

from mapping.oadr import model as m
from mapping.oadr.codes import OadrError, ResponseCode
from vtn.context import VtnContext, new_id
from vtn.domain import OutboxItem, OutboxKind, VenRecord
from vtn.oadr.services.common import ok
from vtn.store import Tx
from vtn.store import repository as repo

log = logging.getLogger("cariflex.vtn.registration")


def _created(ctx: VtnContext, response: m.EiResponse, ven: VenRecord | None = None) -> m.CreatedPartyRegistration:
    return m.CreatedPartyRegistration(
        response=response,
        vtn_id=ctx.config.vtn_id,
        registration_id=ven.registration_id if ven else None,
        ven_id=ven.ven_id if ven else None,
        poll_freq=ctx.config.poll_interval,
    )


async def query_registration(ctx: VtnContext, msg: m.QueryRegistration) -> m.CreatedPartyRegistration:
    """Tell an (unidentified) VEN what this VTN offers; no venID or registrationID is disclosed."""
    return _created(ctx, ok(msg.request_id))


def _existing_ven(ctx: VtnContext, msg: m.CreatePartyRegistration) -> VenRecord | None:
    """The VEN this registration is for, if it is known; refuses ids that do not fit."""
    live = ctx.live
    if msg.registration_id:
        ven = live.ven_by_registration(msg.registration_id)
        if ven is None:
            raise OadrError(ResponseCode.INVALID_ID, f"registrationID {msg.registration_id!r} is not known to this VTN")
        if msg.ven_id and msg.ven_id != ven.ven_id:
            raise OadrError(ResponseCode.INVALID_ID, f"venID {msg.ven_id!r} does not hold registrationID {msg.registration_id!r}")
        return ven
    if msg.ven_id:
        ven = live.vens.get(msg.ven_id)
        if ven is None and not ctx.config.accept_ven_chosen_ids:
            raise OadrError(ResponseCode.INVALID_ID, f"venID {msg.ven_id!r} is not known; register without a venID")
        return ven
    if msg.ven_name:
        return live.ven_by_name(msg.ven_name)
    return None


async def create_party_registration(ctx: VtnContext, msg: m.CreatePartyRegistration) -> m.CreatedPartyRegistration:
    """Register a new VEN or re-register a known one (same venID; registrationID kept on re-registration)."""
    if msg.profile_name != "2.0b":
        raise OadrError(ResponseCode.COMPLIANCE_ERROR, f"profile {msg.profile_name!r} is not served; this VTN speaks 2.0b")
    if msg.transport_name != "simpleHttp":
        raise OadrError(ResponseCode.COMPLIANCE_ERROR, f"transport {msg.transport_name!r} is not served; use simpleHttp")
    push = msg.http_pull_model is False
    # push: the address the pusher will POST to is the checked one, not the raw text
    transport_address = _check_push_address(ctx, msg.transport_address) if push else msg.transport_address
    existing = _existing_ven(ctx, msg)
    if msg.ven_name:
        holder = ctx.live.ven_by_name(msg.ven_name)
        if holder is not None and (existing is None or holder.ven_id != existing.ven_id):
            raise OadrError(ResponseCode.INVALID_ID, f"oadrVenName {msg.ven_name!r} belongs to another VEN ({holder.ven_id})")
    keep_registration = existing is not None and existing.registered and msg.registration_id is not None
    record = VenRecord(
        ven_id=existing.ven_id if existing else (msg.ven_id or new_id("ven")),
        ven_name=msg.ven_name or (existing.ven_name if existing else None),
        registration_id=existing.registration_id if keep_registration and existing else new_id("reg"),
        profile_name=msg.profile_name,
        transport_name=msg.transport_name,
        transport_address=transport_address,
        http_pull_model=not push,
        report_only=msg.report_only,
        xml_signature=msg.xml_signature,
        fingerprint=existing.fingerprint if existing else None,
        party_id=existing.party_id if existing else None,
    )
    now = ctx.now()
    ctx.live.set_outbox(record.ven_id, await ctx.store.call(_save_registration, record, now))
    ctx.live.put_ven(record)
    ctx.live.delivered.pop(record.ven_id, None)
    ctx.seen[record.ven_id] = now
    log.info(
        "%s VEN %s (name %r, registration %s, reportOnly %s, %s)",
        "re-registered" if existing else "registered",
        record.ven_id,
        record.ven_name,
        record.registration_id,
        record.report_only,
        f"push to {record.transport_address}" if push else "pull",
    )
    return _created(ctx, ok(msg.request_id), record)


def _check_push_address(ctx: VtnContext, address: str | None) -> str:
    """A push VEN must give an http(s) URL the VTN can POST to (454 otherwise); returns it without surrounding
    whitespace, as checked."""
    if not ctx.config.push.enabled:
        raise OadrError(
            ResponseCode.COMPLIANCE_ERROR,
            "push mode (oadrHttpPullModel false) is switched off on this VTN; register with oadrHttpPullModel true",
        )
    if not address:
        raise OadrError(ResponseCode.INVALID_DATA, "oadrTransportAddress is required with oadrHttpPullModel false (push mode)")
    address = address.strip()
    parts = urlsplit(address)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OadrError(
            ResponseCode.INVALID_DATA,
            f"oadrTransportAddress {address!r} is not an http(s) URL; push mode needs one the VTN can POST to",
        )
    return address


def _save_registration(session: Tx, record: VenRecord, now: datetime) -> list[OutboxItem]:
    repo.save_ven(session, record, now, True)
    # N1_0020: the VTN registers its own reports with every (re-)registered VEN, delivered on poll
    repo.enqueue(session, record.ven_id, OutboxKind.REGISTER_REPORT, {}, now)
    session.flush()
    return repo.pending_outbox(session, record.ven_id)


async def cancel_registration_of(ctx: VtnContext, ven: VenRecord) -> None:
    """End a VEN's registration: nothing more is delivered to it until it registers again."""
    now = ctx.now()
    cancelled = replace(ven, registration_id=None)
    await ctx.store.call(repo.save_ven, cancelled, now, False)
    await ctx.store.call(repo.drop_outbox, ven.ven_id, now)
    ctx.live.put_ven(cancelled)
    ctx.live.set_outbox(ven.ven_id, [])
    ctx.live.delivered.pop(ven.ven_id, None)
    log.info("registration %s of VEN %s cancelled", ven.registration_id, ven.ven_id)


async def cancel_party_registration(ctx: VtnContext, msg: m.CancelPartyRegistration) -> m.CanceledPartyRegistration:
    """A VEN cancels its own registration."""
    ven = ctx.live.ven_by_registration(msg.registration_id)
    if ven is None:
        raise OadrError(ResponseCode.INVALID_ID, f"registrationID {msg.registration_id!r} is not known to this VTN")
    if msg.ven_id and msg.ven_id != ven.ven_id:
        raise OadrError(ResponseCode.INVALID_ID, f"venID {msg.ven_id!r} does not hold registrationID {msg.registration_id!r}")
    await cancel_registration_of(ctx, ven)
    return m.CanceledPartyRegistration(response=ok(msg.request_id), registration_id=msg.registration_id, ven_id=ven.ven_id)


async def canceled_party_registration(ctx: VtnContext, msg: m.CanceledPartyRegistration) -> m.Response:
    """A VEN acknowledges the VTN's oadrCancelPartyRegistration (the registration is already gone)."""
    log.info(
        "VEN %s acknowledged the cancellation of registration %s (code %s)", msg.ven_id, msg.registration_id, msg.response.code
    )
    return m.Response(response=ok(msg.response.request_id), ven_id=msg.ven_id)


async def response(ctx: VtnContext, msg: m.Response) -> None:
    """An oadrResponse from a VEN (e.g. to oadrRequestReregistration): logged; the HTTP answer is empty."""
    if msg.response.code != ResponseCode.OK:
        log.warning("VEN %s answered %s %s", msg.ven_id, msg.response.code, msg.response.description)
    if msg.ven_id in ctx.live.vens:
        ctx.seen[msg.ven_id] = ctx.now()


def warn_if_push_is_off(ctx: VtnContext) -> None:
    """At start-up: warn when VENs registered in push mode while `[push] enabled = false`, since they receive
    nothing until they register again (new push registrations are refused, existing ones are not pushed to)."""
    if ctx.config.push.enabled:
        return
    push_vens = sorted(v.ven_id for v in ctx.live.vens.values() if v.registered and not v.http_pull_model)
    if push_vens:
        log.warning(
            "%d VEN(s) are registered in push mode but [push] enabled = false: nothing is delivered to them until "
            "they register again in pull mode or push is switched back on (%s%s)",
            len(push_vens),
            ", ".join(push_vens[:10]),
            ", …" if len(push_vens) > 10 else "",
        )
