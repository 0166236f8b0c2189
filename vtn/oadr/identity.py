"""Who is on the other end: the VEN's certificate fingerprint, from the TLS handshake or from a
trusted reverse proxy's header, and the binding of each venID to the certificate it registered with.

A VEN is tied to its certificate's OpenADR fingerprint when it registers; any later message that
names that venID over a connection with another certificate (or none) is refused with eiResponse
463. In reverse-proxy mode the header is believed only from the configured proxy addresses: from
anywhere else it is ignored, so the request has no certificate (openleadr, by contrast, skips every
check in that setup).
"""

import logging
from dataclasses import replace

from aiohttp import web
from lxml import etree

from certs.fingerprint import certificate_from_header, der_of, fingerprint_of_der
from certs.tls import peer_der
from mapping.oadr import model as m
from mapping.oadr.codes import OadrError, ResponseCode
from mapping.oadr.decode import Envelope, read_ven_id
from mapping.oadr.namespaces import NSMAP
from vtn.cache.live import LiveState
from vtn.config import VtnConfig
from vtn.context import VtnContext
from vtn.domain import VenRecord
from vtn.store import repository as repo

log = logging.getLogger("cariflex.vtn.identity")


def identity_required(config: VtnConfig) -> bool:
    """True when every VEN must present a certificate (mutual TLS here, or at the trusted proxy)."""
    return (config.tls is not None and config.tls.require_client_cert) or config.proxy is not None


def presented_fingerprint(request: web.Request, config: VtnConfig) -> str | None:
    """The fingerprint of the client certificate of this request, if there is a trustworthy one.

    Raises OadrError(463) when a trusted proxy forwards something that is not a certificate."""
    transport = request.transport
    der = peer_der(transport.get_extra_info("ssl_object")) if transport is not None else None
    if der:
        return fingerprint_of_der(der)
    proxy = config.proxy
    if proxy is None or proxy.header not in request.headers:
        return None
    if not proxy.trusts(request.remote):
        log.warning("ignored %s header from %s: not a configured proxy", proxy.header, request.remote)
        return None
    value = request.headers[proxy.header]
    if not value.strip():
        return None  # nginx sends an empty $ssl_client_escaped_cert when the client presented none
    try:
        return fingerprint_of_der(der_of(certificate_from_header(value)))
    except ValueError as exc:
        raise OadrError(
            ResponseCode.NOT_REGISTERED_OR_AUTHORIZED, f"the proxy's {proxy.header} header holds no certificate"
        ) from exc


def _holder(live: LiveState, fingerprint: str) -> VenRecord | None:
    # registrations are rare; a scan keeps LiveState free of one more index
    return next((ven for ven in live.vens.values() if ven.fingerprint == fingerprint), None)


def registering(live: LiveState, element: etree._Element) -> VenRecord | None:
    """The known VEN an oadrCreatePartyRegistration is about (by registrationID, venID or name)."""
    registration_id = element.findtext("ei:registrationID", namespaces=NSMAP)
    if registration_id and (ven := live.ven_by_registration(registration_id.strip())):
        return ven
    ven_id = element.findtext("ei:venID", namespaces=NSMAP)
    if ven_id and (ven := live.vens.get(ven_id.strip())):
        return ven
    name = element.findtext("oadr:oadrVenName", namespaces=NSMAP)
    return live.ven_by_name(name.strip()) if name else None


def addressed_ven(live: LiveState, envelope: Envelope) -> VenRecord | None:
    """The known VEN a message speaks for: a registration by registrationID, venID or name; any
    other message by its venID or, when it has none (oadrCancelPartyRegistration may carry only a
    registrationID), by the registrationID — so no message escapes the checks by leaving venID out."""
    if envelope.name == "oadrCreatePartyRegistration":
        return registering(live, envelope.element)
    ven_id = read_ven_id(envelope.element)
    if ven_id:
        return live.vens.get(ven_id)
    return registering(live, envelope.element)


def refuse(text: str) -> OadrError:
    """eiResponse 463 (not registered or authorized) with the reason."""
    return OadrError(ResponseCode.NOT_REGISTERED_OR_AUTHORIZED, text)


def check_binding(ctx: VtnContext, envelope: Envelope, fingerprint: str | None) -> None:
    """Refuse (463) a message whose venID is bound to another certificate, or any message without
    a certificate when one is required."""
    required = identity_required(ctx.config)
    if fingerprint is None and required:
        raise refuse("a client certificate is required (mutual TLS)")
    if envelope.name == "oadrQueryRegistration":
        return
    live = ctx.live
    ven = addressed_ven(live, envelope)
    if envelope.name == "oadrCreatePartyRegistration":
        holder = _holder(live, fingerprint) if fingerprint is not None else None
        if holder is not None and (ven is None or holder.ven_id != ven.ven_id):
            raise refuse(f"this certificate is bound to VEN {holder.ven_id}; re-register with that venID")
    elif ven is not None and ven.fingerprint is None and required:
        raise refuse(f"venID {ven.ven_id!r} was registered without a certificate; register again over mutual TLS")
    if ven is not None and ven.fingerprint is not None and ven.fingerprint != fingerprint:
        raise refuse(f"venID {ven.ven_id!r} is bound to another client certificate than the one presented")


async def bind_on_registration(ctx: VtnContext, reply: object, fingerprint: str | None) -> None:
    """After a successful registration, tie the VEN to the certificate it registered with."""
    if fingerprint is None or not isinstance(reply, m.CreatedPartyRegistration) or reply.response.code != ResponseCode.OK:
        return
    ven = ctx.live.vens.get(reply.ven_id or "")
    if ven is None or ven.fingerprint == fingerprint:
        return
    bound = replace(ven, fingerprint=fingerprint)
    await ctx.store.call(repo.save_ven, bound, ctx.now(), False)
    ctx.live.put_ven(bound)
    log.info("VEN %s bound to certificate %s", ven.ven_id, fingerprint)
