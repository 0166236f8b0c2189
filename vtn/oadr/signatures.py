"""XML signatures at the VTN: optional per VEN, as the 2.0b profile allows.

A VEN that registers with oadrXmlSignature true must sign every message, and the VTN signs every
answer to it (and to any signed request). A signed message from any VEN is checked: the signature must verify, be made with the
certificate the VEN is bound to (or, when registering, the one of the connection), be fresh (within
the replay window) and carry a nonce not seen before (kept in the store, shared by VTN processes).
Every refusal is eiResponse 463 in the reply type the request calls for, with the reason.
"""

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from certs.xmlsig import SignatureRefused, is_signed, sign, verify
from mapping.oadr.decode import Envelope, read_ven_id
from mapping.oadr.namespaces import NSMAP
from vtn.context import VtnContext
from vtn.domain import VenRecord
from vtn.oadr.identity import addressed_ven, refuse
from vtn.store.nonce_repository import remember_nonce

log = logging.getLogger("cariflex.vtn.signatures")


def _wants_signatures(envelope: Envelope, ven: VenRecord | None) -> bool:
    if envelope.name == "oadrCreatePartyRegistration":
        return (envelope.element.findtext("oadr:oadrXmlSignature", namespaces=NSMAP) or "").strip() == "true"
    return ven is not None and ven.xml_signature


async def _inline(fn: Callable[..., Any], *args: object) -> Any:
    return fn(*args)


async def check_signature(
    ctx: VtnContext,
    envelope: Envelope,
    fingerprint: str | None,
    run: Callable[..., Awaitable[Any]] = _inline,
) -> None:
    """Refuse (463) an unsigned message from a signing VEN, and any signed message whose signature
    is not valid, not the sender's, stale or replayed. `run(fn, *args)` runs the verification (CPU work
    on the whole body: off the loop for a big one, vtn/oadr/offloop.py)."""
    ven = addressed_ven(ctx.live, envelope)
    if not is_signed(envelope.root):
        if _wants_signatures(envelope, ven):
            raise refuse("this VEN uses XML signatures (oadrXmlSignature true): every message must be signed")
        return
    window = ctx.config.signature_window
    try:
        verified = await run(verify, envelope.root, ctx.now(), window)
    except SignatureRefused as exc:
        raise refuse(f"XML signature refused: {exc}") from exc
    expected = ven.fingerprint if ven is not None and ven.fingerprint else fingerprint
    if expected is None:
        raise refuse("a signed message needs a certificate to be checked against: use mutual TLS")
    if verified.fingerprint != expected:
        raise refuse(f"signed with certificate {verified.fingerprint}, not the sender's ({expected})")
    fresh = await ctx.store.call(remember_nonce, verified.fingerprint, verified.nonce, verified.timestamp, ctx.now(), window)
    if not fresh:
        raise refuse(f"replayed message: nonce {verified.nonce!r} was already used")


def sign_reply(ctx: VtnContext, envelope: Envelope, reply: object, data: bytes) -> bytes:
    """The answer, signed when the request was signed or comes from a VEN registered with XML signatures."""
    if ctx.signer is None or not data:
        return data
    ven_id = getattr(reply, "ven_id", None) or read_ven_id(envelope.element)
    ven = ctx.live.vens.get(ven_id) if ven_id else None
    if not (is_signed(envelope.root) or (ven is not None and ven.xml_signature)):
        return data
    return sign(data, ctx.signer, ctx.now(), uuid.uuid4().hex)
