"""A test harness VEN in push mode: an aiohttp endpoint on a free loopback port that receives what a
VTN pushes (every message checked against the official XSD), answers each as the 2.0b profile asks
(or as a test scripts it), and can play dead (HTTP 503 / connection refused) for a while.

A push that is not a schema-valid OpenADR message is answered HTTP 400 and recorded in `problems`;
`next()`, `nothing_more()` and the endpoint fixture's teardown (`check()`) fail the test on it, so a
schema-invalid push is never mistaken for "nothing pushed"."""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from mapping.oadr import model as m
from mapping.oadr import report_model as r
from mapping.oadr.decode import decode, open_envelope
from mapping.oadr.encode import encode
from mapping.oadr.xsd import MessageRejected, parse_xml, schema_errors

PATH = "/harness-ven/OpenADR2/Simple/2.0b"
Answer = Callable[[Any], m.Message | r.RegisteredReport | m.Acknowledgement | None]


def default_answer(ven_id: str, message: object) -> object | None:
    """What a conformant push VEN answers in the HTTP response to each VTN-initiated message."""
    if isinstance(message, m.DistributeEvent):
        answers = tuple(
            m.EventResponse(200, "OK", message.request_id, e.event_id, e.modification_number, "optIn")
            for e in message.events
            if e.response_required == "always"
        )
        if not answers:
            return None
        return m.CreatedEvent(m.EiResponse(request_id=message.request_id), ven_id, answers)
    if isinstance(message, r.RegisterReport):
        return r.RegisteredReport(m.EiResponse(request_id=message.request_id), ven_id=ven_id)
    if isinstance(message, r.CreateReport):
        pending = tuple(q.report_request_id for q in message.report_requests)  # the requests it now works on
        return m.Acknowledgement(
            "oadrCreatedReport", m.EiResponse(request_id=message.request_id), ven_id=ven_id, pending_reports=pending
        )
    if isinstance(message, r.CancelReport):
        return m.Acknowledgement("oadrCanceledReport", m.EiResponse(request_id=message.request_id), ven_id=ven_id)
    if isinstance(message, m.CancelPartyRegistration):
        return m.CanceledPartyRegistration(m.EiResponse(request_id=message.request_id), message.registration_id, ven_id)
    if isinstance(message, m.RequestReregistration):
        return m.Response(m.EiResponse(), ven_id=ven_id)
    return None


@dataclass
class PushVen:
    """The harness VEN's endpoint. `received` holds (service, message) in arrival order."""

    ven_id: str = ""
    received: asyncio.Queue[tuple[str, object]] = field(default_factory=asyncio.Queue)
    #: message type name → answer (a message, None for an empty 200); overrides default_answer
    answers: dict[str, Answer] = field(default_factory=dict)
    #: when set, every push is answered with this HTTP status (the VEN is "down")
    down_status: int | None = None
    #: message type name → HTTP status to answer it with (without a body); the message is still recorded
    statuses: dict[str, int] = field(default_factory=dict)
    #: message type names answered HTTP 200 with a body that never ends (until the VTN hangs up)
    endless: set[str] = field(default_factory=set)
    #: what was wrong with pushes that were not schema-valid OpenADR (each answered HTTP 400)
    problems: list[str] = field(default_factory=list)
    server: TestServer | None = None

    @property
    def address(self) -> str:
        """The oadrTransportAddress to register with."""
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.port}{PATH}"

    async def _handle(self, request: web.Request) -> web.Response:
        if self.down_status is not None:
            return web.Response(status=self.down_status)
        body = await request.read()
        service = request.match_info["service"]
        # no assert here: in a handler it would only become an HTTP 500 for the VTN to retry, not a failure
        try:
            root = parse_xml(body)
            problem = schema_errors(root)
            if problem is None:
                envelope = open_envelope(root)
                message = decode(envelope)
        except MessageRejected as exc:
            problem = exc.reason
        except Exception as exc:  # our decoder's trouble with it: recorded as well, never a bare 500
            problem = f"{exc.__class__.__name__}: {exc}"
        if problem is not None:
            self.problems.append(f"VTN pushed a schema-invalid message to {service}: {problem}\n{body.decode(errors='replace')}")
            return web.Response(status=400, text=f"not a valid OpenADR 2.0b message: {problem}\n")
        await self.received.put((service, message))
        if envelope.name in self.statuses:
            return web.Response(status=self.statuses[envelope.name])
        if envelope.name in self.endless:
            return await _endless_answer(request)
        answer = self.answers[envelope.name](message) if envelope.name in self.answers else default_answer(self.ven_id, message)
        if answer is None:
            return web.Response(status=200)
        return web.Response(body=encode(answer), content_type="application/xml")

    def check(self) -> None:
        """Fail if the VTN pushed anything that was not schema-valid OpenADR."""
        assert not self.problems, "\n\n".join(self.problems)

    async def start(self, port: int = 0) -> None:
        """Listen on 127.0.0.1 (a free port, or `port` to come back where it was)."""
        app = web.Application()
        app.router.add_post(PATH + "/{service}", self._handle)
        self.server = TestServer(app, host="127.0.0.1", port=port)
        await self.server.start_server()

    async def close(self) -> None:
        """Stop listening (pushes now find the port closed)."""
        if self.server is not None:
            await self.server.close()

    async def next(self, kind: type | tuple[type, ...] = object, timeout: float = 15.0) -> tuple[str, Any]:
        """The next pushed (service, message), skipping none; asserts it is of `kind` (and that nothing
        schema-invalid was pushed)."""
        self.check()
        try:
            service, message = await asyncio.wait_for(self.received.get(), timeout)
        except TimeoutError:
            self.check()  # the reason nothing arrived
            raise
        assert isinstance(message, kind), f"expected {kind}, the VTN pushed {type(message).__name__} to {service}"
        return service, message

    async def nothing_more(self, within: float = 1.5) -> None:
        """Asserts that nothing else is pushed for a while (nothing schema-invalid either)."""
        try:
            service, message = await asyncio.wait_for(self.received.get(), within)
        except TimeoutError:
            self.check()
            return
        raise AssertionError(f"unexpected push of {type(message).__name__} to {service}")


async def _endless_answer(request: web.Request) -> web.StreamResponse:
    """HTTP 200 and an XML comment that goes on until the client closes the connection."""
    response = web.StreamResponse(status=200, headers={"Content-Type": "application/xml"})
    await response.prepare(request)
    try:
        await response.write(b"<?xml version='1.0'?><!--")
        while True:
            await response.write(b"x" * 65536)
    except (ConnectionError, RuntimeError):  # the VTN hung up (aiohttp says so either way, by version)
        pass
    return response
