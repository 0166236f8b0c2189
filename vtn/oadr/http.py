"""The simple-HTTP transport of 2.0b: `/OpenADR2/Simple/2.0b/<service>`.

Turns a request into a typed message (refusing what cannot be trusted), checks who sent it (the
client certificate a venID is bound to, XML signatures: vtn/oadr/identity.py, vtn/oadr/signatures.py),
routes it to its service and answers. Protocol errors go out in the response type the request calls for, with the right
eiResponse code; bodies that are not OpenADR at all get an HTTP 4xx. Never a 500.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from lxml import etree

from mapping.oadr import model as m
from mapping.oadr import report_model as r
from mapping.oadr.codes import OadrError, ResponseCode
from mapping.oadr.decode import Envelope, decode, open_envelope
from mapping.oadr.edge import STORED_TEXT, check_message
from mapping.oadr.encode import encode
from mapping.oadr.namespaces import NSMAP
from mapping.oadr.push_profile import PUSHED
from mapping.oadr.refusal import refusal, refusal_response
from mapping.oadr.xsd import MessageRejected, parse_xml, schema_errors
from vtn.context import VtnContext
from vtn.oadr import identity, signatures
from vtn.oadr.offloop import INLINE, OffLoop, threshold_from_env
from vtn.oadr.services import events, opt, poll, registration, reports
from vtn.ops import incidents, metrics
from vtn.store.limits import column_lengths

log = logging.getLogger("cariflex.vtn.http")

BASE_PATH = "/OpenADR2/Simple/2.0b"
XML_TYPES = ("application/xml", "text/xml")

#: the app's big-body worker (tests hold it to prove polls are answered meanwhile)
OFFLOOP_KEY = web.AppKey("oadr_offloop", OffLoop)

Handler = Callable[[VtnContext, Any], Awaitable[m.Message | bytes | None]]

#: message name → handler, per service
SERVICES: dict[str, dict[str, Handler]] = {
    "EiRegisterParty": {
        "oadrQueryRegistration": registration.query_registration,
        "oadrCreatePartyRegistration": registration.create_party_registration,
        "oadrCancelPartyRegistration": registration.cancel_party_registration,
        "oadrCanceledPartyRegistration": registration.canceled_party_registration,
        "oadrResponse": registration.response,
    },
    "EiEvent": {
        "oadrRequestEvent": events.request_event,
        "oadrCreatedEvent": events.created_event,
    },
    "OadrPoll": {"oadrPoll": poll.poll},
    "EiReport": {
        "oadrRegisterReport": reports.register_report,
        "oadrRegisteredReport": reports.registered_report,
        "oadrCreateReport": reports.create_report,
        "oadrCreatedReport": reports.created_report,
        "oadrUpdateReport": reports.update_report,
        "oadrUpdatedReport": reports.updated_report,
        "oadrCancelReport": reports.cancel_report,
        "oadrCanceledReport": reports.canceled_report,
    },
    "EiOpt": {
        "oadrCreateOpt": opt.create_opt,
        "oadrCancelOpt": opt.cancel_opt,
    },
}

#: the reply type each request calls for (anything else is answered with oadrResponse)
REPLY_TYPE = {
    "oadrQueryRegistration": "oadrCreatedPartyRegistration",
    "oadrCreatePartyRegistration": "oadrCreatedPartyRegistration",
    "oadrCancelPartyRegistration": "oadrCanceledPartyRegistration",
    "oadrRequestEvent": "oadrDistributeEvent",
    "oadrRegisterReport": "oadrRegisteredReport",
    "oadrCreateReport": "oadrCreatedReport",
    "oadrUpdateReport": "oadrUpdatedReport",
    "oadrCancelReport": "oadrCanceledReport",
    "oadrCreateOpt": "oadrCreatedOpt",
    "oadrCancelOpt": "oadrCanceledOpt",
}


#: the longest text each stored element may carry: its store column's length (element → characters)
_COLUMN_LENGTHS = column_lengths(STORED_TEXT.values())
TEXT_LIMITS: dict[str, int] = {element: _COLUMN_LENGTHS[column] for element, column in STORED_TEXT.items()}


def service_of(name: str) -> str | None:
    """The service a message type is sent to."""
    for service, handlers in SERVICES.items():
        if name in handlers:
            return service
    return None


def error_reply(ctx: VtnContext, name: str, element: etree._Element, error: OadrError) -> m.Message | r.ReportMessage:
    """The refusal of request `name`, in the message type the request calls for."""
    reply = REPLY_TYPE.get(name, "oadrResponse")
    if reply == "oadrCreatedPartyRegistration":
        response = refusal_response(element, error)
        return m.CreatedPartyRegistration(response=response, vtn_id=ctx.config.vtn_id, poll_freq=ctx.config.poll_interval)
    if reply == "oadrDistributeEvent":
        response = refusal_response(element, error)
        return m.DistributeEvent(request_id=response.request_id, vtn_id=ctx.config.vtn_id, events=(), response=response)
    return refusal(reply, element, error)  # the reply types that need nothing of the VTN: shared with the VEN


def _check_vtn_id(ctx: VtnContext, element: etree._Element) -> None:
    # the schema allows a vtnID only as a direct child of a message, so no deep search is needed
    for vtn_id in element.iterfind("ei:vtnID", NSMAP):
        if (vtn_id.text or "").strip() != ctx.config.vtn_id:
            raise OadrError(
                ResponseCode.INVALID_ID, f"vtnID {vtn_id.text!r} is not this VTN's ({ctx.config.vtn_id!r}; case counts)"
            )


def _check_content(ctx: VtnContext, envelope: Envelope) -> None:
    """The checks of a message's content alone (no shared state but the configuration): off the loop for big bodies."""
    problem = schema_errors(envelope.root)
    if problem is not None:
        raise OadrError(ResponseCode.BAD_REQUEST, f"{envelope.name} is not valid against the OpenADR 2.0b schema: {problem}")
    _check_vtn_id(ctx, envelope.element)
    check_message(envelope.element, TEXT_LIMITS)  # what the schema lets through but the store cannot hold


def _open(body: bytes, max_bytes: int) -> Envelope:
    return open_envelope(parse_xml(body, max_bytes))


async def _answer(
    ctx: VtnContext, service: str, envelope: Envelope, fingerprint: str | None, size: int = 0, offloop: OffLoop = INLINE
) -> m.Message | bytes | None:
    name = envelope.name
    handler = SERVICES[service].get(name)
    if handler is None:
        right = service_of(name)
        where = f"; send it to {BASE_PATH}/{right}" if right else ""
        raise OadrError(ResponseCode.COMPLIANCE_ERROR, f"{name} is not a message of the {service} service{where}")
    # the CPU work on the body (schema, signature, decode) goes off the loop when the body is big: same order, same errors
    await offloop.run(size, _check_content, ctx, envelope)
    identity.check_binding(ctx, envelope, fingerprint)
    await signatures.check_signature(ctx, envelope, fingerprint, lambda fn, *args: offloop.run(size, fn, *args))
    reply = await handler(ctx, await offloop.run(size, decode, envelope))
    await identity.bind_on_registration(ctx, reply, fingerprint)
    return reply


async def take_answer(ctx: VtnContext, body: bytes, fingerprint: str | None, pushed: str) -> str:
    """Process a VEN's answer to the pushed message `pushed` (its type name) exactly as if the VEN had
    posted it (same checks, same handler); returns its message name. Only the answer the 2.0b profile
    gives to `pushed` is taken: another message (a request, a registration) would be processed with its
    reply thrown away. Raises MessageRejected (not OpenADR) or OadrError (refused, or not the answer to
    `pushed`); the handler's own reply is dropped: push answers are not answered."""
    envelope = _open(body, ctx.config.max_body_bytes)
    expected = PUSHED[pushed].answers if pushed in PUSHED else ()  # an empty HTTP 200 is handled by the pusher
    if envelope.name not in expected:
        wanted = " or ".join(sorted(expected)) or "nothing"
        raise OadrError(ResponseCode.COMPLIANCE_ERROR, f"{envelope.name} is not an answer to {pushed} (expected {wanted})")
    service = service_of(envelope.name)
    assert service is not None  # every expected answer is a message of some service
    await _answer(ctx, service, envelope, fingerprint)
    return envelope.name


async def _read_body(ctx: VtnContext, request: web.Request) -> bytes | web.Response:
    """The request body, or the refusal of one that is announced too big or arrives too slowly."""
    limit = ctx.config.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        return web.Response(status=413, text=f"body of {request.content_length} bytes exceeds the limit of {limit} bytes\n")
    try:
        async with asyncio.timeout(ctx.config.body_timeout.total_seconds()):
            return await request.read()
    except TimeoutError:
        log.warning("refused a slow request from %s: body not received within %s", request.remote, ctx.config.body_timeout)
        return web.Response(status=408, text=f"the body did not arrive within {ctx.config.body_timeout.total_seconds():g} s\n")


def make_handler(ctx: VtnContext, service: str, offloop: OffLoop = INLINE) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The aiohttp handler of one 2.0b service; big bodies are worked on off the loop by `offloop`."""

    async def handle(request: web.Request) -> web.Response:
        if request.content_type not in XML_TYPES:
            given = request.headers.get("Content-Type", "none")
            log.warning("%s: refused Content-Type %s from %s", service, given, request.remote)
            return web.Response(status=415, text=f"Content-Type must be application/xml, not {given}\n")
        body = await _read_body(ctx, request)
        if isinstance(body, web.Response):
            return body
        try:
            envelope = await offloop.run(len(body), _open, body, ctx.config.max_body_bytes)
        except MessageRejected as exc:
            log.warning("%s: refused a request from %s: %s", service, request.remote, exc.reason)
            return web.Response(status=exc.status, text=exc.reason + "\n")
        name = envelope.name
        try:
            fingerprint = identity.presented_fingerprint(request, ctx.config)
            reply = await _answer(ctx, service, envelope, fingerprint, len(body), offloop)
            # bytes are answers built on the fast path (polls, events): always 200
            response = None if reply is None or isinstance(reply, bytes) else getattr(reply, "response", None)
            code = int(response.code) if response is not None else 200
        except OadrError as exc:
            log.warning("%s: %s from %s refused with %s: %s", service, name, request.remote, int(exc.code), exc.description)
            reply, code = error_reply(ctx, name, envelope.element, exc), int(exc.code)
        except Exception as exc:  # a defect of ours, or a store outage, must still get an OpenADR answer, not a 500
            incident = incidents.record(log, exc, f"{service}: failed to handle {name} from {request.remote}")
            error = OadrError(ResponseCode.DEPLOYMENT_ERROR_OR_OTHER_ERROR, incidents.public_text(exc, incident))
            reply, code = error_reply(ctx, name, envelope.element, error), int(error.code)
        _count(ctx, service, name, code)
        if reply is None:
            return web.Response(status=200)
        # the answer to a big body may be big too (an oadrRegisteredReport requesting its 2,500 rIDs): encoded off the loop
        data = reply if isinstance(reply, bytes) else await offloop.run(len(body), encode, reply)
        return web.Response(body=signatures.sign_reply(ctx, envelope, reply, data), content_type="application/xml")

    return handle


#: the message types a VEN sends to the VTN: the only values of the `message` label besides "other"
KNOWN_MESSAGES = frozenset(name for handlers in SERVICES.values() for name in handlers)


def _count(ctx: VtnContext, service: str, name: str, code: int) -> None:
    """Count a handled message by service, type and eiResponse code (a few dict operations: this is the poll path).
    The decoder accepts any element name in the oadr namespace, before any authentication: an unknown one is
    counted as "other", so a client cannot add a series (memory, scrape size) per name it makes up."""
    label = name if name in KNOWN_MESSAGES else "other"
    ctx.tally.inc(metrics.OADR_MESSAGES, (service, label, str(code)))
    if code != 200 and name == "oadrUpdateReport":
        ctx.tally.inc(metrics.REPORT_REJECTIONS, (str(code),))


def add_routes(app: web.Application, ctx: VtnContext, offloop: OffLoop | None = None) -> None:
    """Serve every 2.0b service under BASE_PATH; bodies from `CARIFLEX_OFFLOOP_BYTES` up are worked on off the
    loop (vtn/oadr/offloop.py), all services sharing its job slots."""
    shared = offloop if offloop is not None else OffLoop(threshold_from_env())

    async def close(_app: web.Application) -> None:
        shared.close()

    app[OFFLOOP_KEY] = shared
    app.on_cleanup.append(close)
    for service in SERVICES:
        app.router.add_post(f"{BASE_PATH}/{service}", make_handler(ctx, service, shared))
