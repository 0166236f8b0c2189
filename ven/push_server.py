"""A site VEN's endpoint in 2.0b push mode: the VTN POSTs to `<transportAddress>/<service>`.

Each pushed message is read like a polled one (safe parse, official XSD, XML signature checks:
`VtnLink.read`), handed to the same code (`SiteVen.handle`), and its answer — oadrCreatedEvent,
oadrCreatedReport, oadrRegisteredReport, oadrCanceledReport, oadrCanceledPartyRegistration,
oadrResponse — goes back in the HTTP response, as the profile requires. What the VEN does after
answering (its reports, a new registration) goes to the VTN by POST as in pull mode. With TLS the
endpoint presents the site's certificate, accepts only clients with a certificate from the CA, and
answers 403 before reading anything unless that certificate is the VTN's: issued for the host of the
configured VTN URL, as the VEN checks the VTN's signatures (`VtnLink._check_signature`). Every device
certificate from the CA can be a TLS client (push turns the roles around), so the CA check alone would
let any other site's VEN push events or cancel this one's registration.
"""

import asyncio
import logging
import ssl
from urllib.parse import urlsplit

from aiohttp import web
from cryptography import x509

from certs.tls import TlsSettings, peer_der, server_context
from certs.xmlsig import issued_for_host
from mapping.oadr import model as m
from mapping.oadr import report_model as r
from mapping.oadr.encode import encode
from ven.agent import SiteVen
from ven.transport import Message, VtnProtocolError

log = logging.getLogger("cariflex.ven.push")

BASE_PATH = "/OpenADR2/Simple/2.0b"
XML_TYPES = ("application/xml", "text/xml")
MAX_BODY = 2 * 1024 * 1024

#: the service each message the VTN may push is posted to
SERVICE_OF = {
    m.DistributeEvent: "EiEvent",
    r.RegisterReport: "EiReport",
    r.CreateReport: "EiReport",
    r.CancelReport: "EiReport",
    r.UpdateReport: "EiReport",
    m.CancelPartyRegistration: "EiRegisterParty",
    m.RequestReregistration: "EiRegisterParty",
}


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
        """Stop listening; follow-up work still running is cancelled."""
        for task in list(self._later):
            task.cancel()
        await asyncio.gather(*self._later, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

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

    async def _handle(self, request: web.Request) -> web.Response:
        site = self.ven.site
        refusal = self._not_the_vtn(request)
        if refusal is not None:
            log.warning("%s: refused a push from %s: %s", site.name, request.remote, refusal)
            return web.Response(status=403, text=f"{refusal}\n")
        if request.content_type not in XML_TYPES:
            return web.Response(status=415, text=f"Content-Type must be application/xml, not {request.content_type}\n")
        service = request.match_info["service"]
        data = await request.read()
        try:
            message = site.link.read(f"push {service}", data)
        except VtnProtocolError as exc:
            log.warning("%s: refused a pushed message: %s", site.name, exc)
            return web.Response(status=400, text=f"{exc}\n")
        expected = SERVICE_OF.get(type(message))
        if expected is None or expected != service:
            where = f"; it belongs to {BASE_PATH}/{expected}" if expected else ""
            return web.Response(status=400, text=f"{type(message).__name__} is not pushed to {service}{where}\n")
        if site.registration is None:
            log.warning("%s: ignored a pushed %s: not registered", site.name, type(message).__name__)
            return web.Response(status=200)
        answer = await self.answer(message)
        if answer is None:
            return web.Response(status=200)
        return web.Response(body=site.link.signed(encode(answer)), content_type="application/xml")

    async def answer(self, message: Message) -> Message | None:
        """Run `message` through the VEN's usual handling; the first answer it gives is returned for
        the HTTP response, and whatever the handling does after answering continues in the background."""
        first: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        ven_id = self.ven.site.ven_id

        async def answer_with(service: str, reply: Message) -> Message | None:
            if not first.done():
                first.set_result(reply)
                return m.Response(m.EiResponse(), ven_id=ven_id)  # the VTN takes it as if posted
            return await self.ven.site.link.send(service, reply)

        handling = asyncio.create_task(self.ven.handle(message, answer_with))
        await asyncio.wait({first, handling}, return_when=asyncio.FIRST_COMPLETED)
        if not handling.done():
            self._later.add(handling)
            handling.add_done_callback(self._finished)
        elif handling.exception() is not None:
            log.error("%s: handling a pushed message failed", self.ven.site.name, exc_info=handling.exception())
        return first.result() if first.done() else None

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._later.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s: work after answering a push failed", self.ven.site.name, exc_info=task.exception())
