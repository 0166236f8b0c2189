"""A site VEN's endpoint in 2.0b push mode: the VTN POSTs to `<transportAddress>/<service>`.

Each pushed message is read like a polled one (safe parse, official XSD, XML signature checks:
`VtnLink.open` and `VtnLink.check`), handed to the same code (`SiteVen.handle`), and its answer — oadrCreatedEvent,
oadrCreatedReport, oadrRegisteredReport, oadrCanceledReport, oadrCanceledPartyRegistration,
oadrResponse — goes back in the HTTP response, as the profile requires. What the VEN does after
answering (its reports, a new registration) goes to the VTN by POST as in pull mode. With TLS the
endpoint presents the site's certificate, accepts only clients with a certificate from the CA, and
answers 403 before reading anything unless that certificate is the VTN's: issued for the host of the
configured VTN URL, as the VEN checks the VTN's signatures (`VtnLink._check_signature`). Every device
certificate from the CA can be a TLS client (push turns the roles around), so the CA check alone would
let any other site's VEN push events or cancel this one's registration.

Answers, as the VTN gives them: a protocol fault (a message pushed to the wrong service or not one a VTN
pushes: 459; not valid against the schema: 400; a signature that is not the VTN's: 463) is refused with
that eiResponse code in the message type the pushed message calls for (`mapping/oadr/refusal.py`); a body
that is not OpenADR at all gets HTTP 400 (415 for another Content-Type, 408 when it arrives too slowly,
413 when too big). When the VEN cannot answer — it is not registered (yet), or handling failed before an
answer existed — it says HTTP 503 with Retry-After, so that the VTN keeps the message and pushes it
again; an empty 200 means "delivered, nothing to answer" (responseRequired never).
"""

import asyncio
import logging
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web
from cryptography import x509

from certs.tls import TlsSettings, peer_der, server_context
from certs.xmlsig import issued_for_host
from mapping.oadr.codes import OadrError, ResponseCode
from mapping.oadr.decode import Envelope
from mapping.oadr.encode import encode
from mapping.oadr.push_profile import PUSHED
from mapping.oadr.refusal import refusal
from ven.agent import GIVEN_IN_PUSH_RESPONSE, SiteVen
from ven.transport import Message, NotOpenAdr, VtnProtocolError

log = logging.getLogger("cariflex.ven.push")

BASE_PATH = "/OpenADR2/Simple/2.0b"
XML_TYPES = ("application/xml", "text/xml")
MAX_BODY = 2 * 1024 * 1024
#: what a 503 asks the VTN to wait before pushing again (seconds)
RETRY_AFTER_S = 5


def unavailable(reason: str) -> web.Response:
    """HTTP 503 with Retry-After: the VTN keeps the message and pushes it again (an empty 200 would
    tell it the message was delivered)."""
    return web.Response(status=503, text=f"{reason}\n", headers={"Retry-After": str(RETRY_AFTER_S)})


@dataclass(frozen=True)
class PushAnswer:
    """The answer to a pushed message, and where its writer says whether it went out (True) or not."""

    message: Message
    given: asyncio.Future[bool]


class PushEndpoint:
    """One site VEN's HTTP(S) endpoint; `address` is its oadrTransportAddress once started."""

    def __init__(self, ven: SiteVen, tls: TlsSettings | None = None) -> None:
        self.ven = ven
        self.tls = tls
        self._runner: web.AppRunner | None = None
        self._later: set[asyncio.Task[None]] = set()
        self.port = 0

    def address(self, public_host: str) -> str:
        """The oadrTransportAddress the VTN is given."""
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{public_host}:{self.port}{BASE_PATH}"

    async def start(self, host: str, port: int) -> int:
        """Listen on host:port (0: a free port); returns the port bound."""
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(BASE_PATH + "/{service}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        context: ssl.SSLContext | None = server_context(self.tls) if self.tls else None
        site = web.TCPSite(self._runner, host, port, ssl_context=context)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else port
        return self.port

    async def stop(self) -> None:
        """Stop listening and let the pushes being handled finish (they may add follow-up work), then
        cancel the follow-up work still running."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        for task in list(self._later):
            task.cancel()
        await asyncio.gather(*self._later, return_exceptions=True)

    def _not_the_vtn(self, request: web.Request) -> str | None:
        """Why the client of `request` is not the VTN (None: it is, or there is no TLS to tell).

        The handshake has already checked the certificate against the CA (and CRL); here it must also
        name the VTN URL's host, which only the VTN's certificate does (site certificates carry no host)."""
        if self.tls is None:
            return None
        transport = request.transport
        der = peer_der(transport.get_extra_info("ssl_object")) if transport is not None else None
        if der is None:
            return "no client certificate"
        link = self.ven.site.link
        host = urlsplit(link.base_url).hostname or ""
        if not issued_for_host(x509.load_der_x509_certificate(der), host, link.ca_pem):
            return f"the client certificate is not the VTN's (not issued for {host} by our CA)"
        return None

    async def _read_body(self, request: web.Request) -> bytes | web.Response:
        """The body, or the refusal of one announced too big or arriving slower than the VEN's request
        timeout (a stalled client must not hold the handler)."""
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.Response(status=413, text=f"body of {request.content_length} bytes exceeds {MAX_BODY} bytes\n")
        timeout = self.ven.site.ven.request_timeout.total_seconds()
        try:
            async with asyncio.timeout(timeout):
                return await request.read()
        except TimeoutError:
            log.warning("%s: refused a slow push from %s", self.ven.site.name, request.remote)
            return web.Response(status=408, text=f"the body did not arrive within {timeout:g} s\n")

    async def _handle(self, request: web.Request) -> web.Response:
        site = self.ven.site
        refused = self._not_the_vtn(request)
        if refused is not None:
            log.warning("%s: refused a push from %s: %s", site.name, request.remote, refused)
            return web.Response(status=403, text=f"{refused}\n")
        if request.content_type not in XML_TYPES:
            return web.Response(status=415, text=f"Content-Type must be application/xml, not {request.content_type}\n")
        if site.registration is None:
            # just before our registration is stored, or after losing it: the VTN must push this again later
            log.warning("%s: asked the VTN to push again later: not registered", site.name)
            return unavailable("this VEN is not registered (yet): push again later")
        data = await self._read_body(request)
        if isinstance(data, web.Response):
            return data
        service = request.match_info["service"]
        try:
            envelope = site.link.open(f"push {service}", data)
        except NotOpenAdr as exc:  # no OpenADR message to answer in: plain HTTP
            log.warning("%s: refused a pushed body: %s", site.name, exc)
            return web.Response(status=400, text=f"{exc}\n")
        try:
            message = self._checked(service, envelope)
        except OadrError as exc:
            log.warning("%s: refused a pushed %s with %d: %s", site.name, envelope.name, int(exc.code), exc.description)
            reply = PUSHED[envelope.name].answers[0] if envelope.name in PUSHED else "oadrResponse"
            return self._reply(refusal(reply, envelope.element, exc, ven_id=site.ven_id))
        answer = await self.answer(message)
        if isinstance(answer, BaseException):
            return unavailable(f"handling the pushed {envelope.name} failed: push it again later")
        if answer is None:
            return web.Response(status=200)
        return await self._give(request, answer)

    async def _give(self, request: web.Request, answer: PushAnswer) -> web.StreamResponse:
        """Write the answer as the HTTP response and tell the handling whether it went out."""
        sent = False
        try:
            response = self._reply(answer.message)
            await response.prepare(request)
            await response.write_eof()
            sent = True
            return response
        finally:
            if not answer.given.done():  # cancelled with its handling (the endpoint stopping)
                answer.given.set_result(sent)

    def _checked(self, service: str, envelope: Envelope) -> Message:
        """The pushed message once it is one the VTN pushes, to its service, schema-valid and (when
        signatures are used) signed by the VTN; OadrError with the eiResponse code otherwise."""
        expected = PUSHED[envelope.name].service if envelope.name in PUSHED else None
        if expected != service:
            where = f"; it belongs to {BASE_PATH}/{expected}" if expected else ""
            raise OadrError(ResponseCode.COMPLIANCE_ERROR, f"{envelope.name} is not pushed to {service}{where}")
        try:
            return self.ven.site.link.check(f"push {service}", envelope)
        except VtnProtocolError as exc:
            raise OadrError(exc.code, str(exc)) from exc

    def _reply(self, message: Message) -> web.Response:
        return web.Response(body=self.ven.site.link.signed(encode(message)), content_type="application/xml")

    async def answer(self, message: Message) -> PushAnswer | BaseException | None:
        """Run `message` through the VEN's usual handling; the first answer it gives is returned for
        the HTTP response, and whatever the handling does after answering continues in the background
        once the caller has said (`PushAnswer.given`) whether that answer went out.
        None: the handling ended without an answer (responseRequired never); an exception: it failed
        before answering."""
        loop = asyncio.get_running_loop()
        first: asyncio.Future[Message] = loop.create_future()
        given: asyncio.Future[bool] = loop.create_future()

        async def answer_with(service: str, reply: Message) -> Message | None:
            if not first.done():
                first.set_result(reply)
                # written out: the answer counts as given (an oadrCreatedEvent is not repeated with the next
                # distribution); not written: as unanswered, it is given again when the VTN pushes again
                return GIVEN_IN_PUSH_RESPONSE if await given else None
            return await self.ven.site.link.send(service, reply)

        handling = asyncio.create_task(self.ven.handle(message, answer_with))
        try:
            await asyncio.wait({first, handling}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:  # this request was cancelled: no answer goes out, the handling goes on
            given.set_result(False)
            self._later.add(handling)  # stop() cancels it with the rest
            handling.add_done_callback(self._finished)
            raise
        if not handling.done():
            self._later.add(handling)
            handling.add_done_callback(self._finished)
        elif handling.exception() is not None:
            log.error("%s: handling a pushed message failed", self.ven.site.name, exc_info=handling.exception())
            if not first.done():
                return handling.exception()
        return PushAnswer(first.result(), given) if first.done() else None

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._later.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s: work after answering a push failed", self.ven.site.name, exc_info=task.exception())
