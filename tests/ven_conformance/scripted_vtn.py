"""A scripted OpenADR 2.0b VTN for testing our site VEN (the VEN is the device under test, the
harness plays the VTN: the `*_TH_VTN` certification cases).

`ScriptedVtn` is an aiohttp server on 127.0.0.1 (free port) serving the five 2.0b simple-HTTP
services. Every message the VEN sends is parsed, checked against the official 2.0b XSD and checked
to have been posted to the right service; anything wrong is kept in `problems` and fails the test
(see `Th.wait` and the `th` fixture). Everything received is recorded in `exchanges`, in order.

What the VTN answers is scripted by the test:

- `push(...)` queues what the next polls hand out, one item per oadrPoll: a typed message
  (oadrDistributeEvent, oadrCreateReport, oadrCancelReport, oadrRegisterReport,
  oadrRequestReregistration, oadrCancelPartyRegistration…), a callable building one at hand-out
  time, raw bytes, or `Raw` (any body, HTTP status, content type, delay — for garbage, invalid XML,
  HTTP errors, empty bodies and timeouts). An empty queue answers oadrResponse 200.
- `answer_next(name, ...)` sets one-shot answers to the next VEN messages of that name (for
  example an oadrCreatedPartyRegistration with another vtnID, an oadrUpdatedReport carrying an
  oadrCancelReport, an oadrResponse 459 to oadrCreatedEvent, an oadrRegisteredReport with report
  requests, a 463 to a poll).
- Otherwise the defaults a well-behaved VTN gives: registration with `vtn_id`, `ven_id`,
  `registration_id` (and `poll_freq` when set), oadrRegisteredReport to oadrRegisterReport,
  oadrUpdatedReport to oadrUpdateReport, oadrResponse to oadrCreatedEvent, oadrCreatedReport,
  oadrCanceledReport, oadrRegisteredReport, oadrUpdatedReport and oadrCanceledPartyRegistration, oadrCreatedOpt and
  oadrCanceledOpt to the opt messages, an empty body to the VEN's oadrResponse. `Later(delay)`
  in `answer_next` gives an answer (the default one unless given) only after a delay.
- `outage` (a `Raw`) answers every request with it while set.

`Th` runs our VEN (`ven.runner.VenProcess`) against it with a `RecordingHooks` and a local store
in the test's tmp_path. By default the VTN sends no oadrRequestedOadrPollFreq (it is optional), so
the VEN polls at its configured default, 0.1 s here, which keeps the cases short; a case that is
about the requested frequency sets `poll_freq` (whole seconds: the XSD has no fractional durations).
"""

import asyncio
import itertools
import logging
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestServer

from certs.tls import TlsSettings, peer_der, server_context
from mapping.oadr import model as m
from mapping.oadr import report_model as r
from mapping.oadr.codes import OadrError
from mapping.oadr.decode import decode, open_envelope
from mapping.oadr.encode import encode
from mapping.oadr.xsd import MessageRejected, parse_xml, schema_errors
from ven.agent import SiteVen
from ven.config import OptPolicy, SiteConfig, VenConfig
from ven.runner import VenProcess
from ven.store import KnownEvent

log = logging.getLogger("tests.ven_conformance.vtn")
#: the programs the test site is enrolled in: the test program and the other contexts the cases use as valid
ENROLLED = ("http://cariflex.mq/programs/*", "http://MarketContext1/*", "http://MarketContext2")

BASE = "/OpenADR2/Simple/2.0b"
SERVICES = ("EiRegisterParty", "EiEvent", "EiReport", "EiOpt", "OadrPoll")

#: The service each message a VEN may send belongs to.
SERVICE_OF = {
    "oadrQueryRegistration": "EiRegisterParty",
    "oadrCreatePartyRegistration": "EiRegisterParty",
    "oadrCancelPartyRegistration": "EiRegisterParty",
    "oadrCanceledPartyRegistration": "EiRegisterParty",
    "oadrResponse": "EiRegisterParty",  # a pull VEN's answer to oadrRequestReregistration
    "oadrRequestEvent": "EiEvent",
    "oadrCreatedEvent": "EiEvent",
    "oadrRegisterReport": "EiReport",
    "oadrRegisteredReport": "EiReport",
    "oadrCreateReport": "EiReport",
    "oadrCreatedReport": "EiReport",
    "oadrUpdateReport": "EiReport",
    "oadrUpdatedReport": "EiReport",  # a VEN's answer to the VTN's own reports
    "oadrCanceledReport": "EiReport",
    "oadrCancelReport": "EiReport",
    "oadrCreateOpt": "EiOpt",
    "oadrCancelOpt": "EiOpt",
    "oadrPoll": "OadrPoll",
}

DEFAULT_TIMEOUT = 4.0


@dataclass(frozen=True)
class Raw:
    """An answer sent as it is: any body, HTTP status and content type, after `delay` seconds."""

    body: bytes = b""
    status: int = 200
    content_type: str | None = "application/xml"
    delay: float = 0.0


@dataclass(frozen=True)
class Later:
    """An answer given after `delay` seconds: `reply` (None: the default answer) — a slow VTN."""

    delay: float
    reply: object = None


@dataclass
class Exchange:
    """One request of the VEN: where it went, what it was, and what the VTN answered."""

    seq: int
    service: str
    name: str
    message: object
    body: bytes
    at: datetime
    answer: object = None
    #: over TLS: (protocol version, cipher suite) of the connection, and the DER certificate the VEN presented
    tls: tuple[str, str] | None = None
    peer_cert: bytes | None = None


Reply = object  # a typed message, bytes, Raw, or a callable(message) returning one of these


class ScriptedVtn:
    """The VTN side of the `*_TH_VTN` cases; see the module docstring."""

    def __init__(
        self,
        *,
        vtn_id: str = "TH_VTN",
        ven_id: str = "TH_VEN_1",
        registration_id: str = "TH_REG_1",
        poll_freq: timedelta | None = None,
        tls: TlsSettings | None = None,
    ) -> None:
        self.vtn_id = vtn_id
        #: serve over the 2.0b TLS profile with these certificates (certs.tls.server_context, client certificate required)
        self.tls = tls
        self.ven_id = ven_id
        self.registration_id = registration_id
        self.poll_freq = poll_freq
        self.queue: deque[object] = deque()
        self.answers: dict[str, deque[Reply]] = defaultdict(deque)
        self.outage: Raw | None = None
        self.exchanges: list[Exchange] = []
        self.problems: list[str] = []
        self.handed_out: list[tuple[int, object]] = []
        self.last_handout = 0
        self.last_idle_poll = 0
        self._seq = itertools.count(1)
        self._server: TestServer | None = None

    # --- server ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on 127.0.0.1, on a free port."""
        app = web.Application()
        app.router.add_post(BASE + "/{service}", self._handle)
        self._server = TestServer(app, host="127.0.0.1")
        if self.tls is not None:
            await self._server.start_server(ssl=server_context(self.tls))
        else:
            await self._server.start_server()

    async def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            await self._server.close()

    @property
    def url(self) -> str:
        """The base URL of the 2.0b services, as a VEN is configured with it."""
        assert self._server is not None
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self._server.port}{BASE}"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        service = request.match_info["service"]
        body = await request.read()
        exchange = Exchange(next(self._seq), service, "", None, body, datetime.now(UTC))
        ssl_object = request.transport.get_extra_info("ssl_object") if request.transport else None
        if ssl_object is not None:
            exchange.tls = (ssl_object.version() or "", ssl_object.cipher()[0])
            exchange.peer_cert = peer_der(ssl_object)
        self.exchanges.append(exchange)
        if service not in SERVICES:
            self.problems.append(f"the VEN posted to an unknown service {service!r}")
        try:
            root = parse_xml(body)
            envelope = open_envelope(root)
            exchange.name = envelope.name
            problem = schema_errors(root)
            if problem is not None:
                self.problems.append(
                    f"the VEN sent a schema-invalid {envelope.name} to {service}: {problem}\n{body.decode(errors='replace')}"
                )
            else:
                exchange.message = decode(envelope)
        except (MessageRejected, OadrError) as exc:
            self.problems.append(f"the VEN sent something that is not a 2.0b message to {service}: {exc}")
        if exchange.name and SERVICE_OF.get(exchange.name) != service:
            self.problems.append(f"the VEN posted {exchange.name} to {service}, expected {SERVICE_OF.get(exchange.name)}")
        if exchange.message is None:
            exchange.answer = Raw(b"not a valid 2.0b message", 400, "text/plain")
        elif self.outage is not None:
            exchange.answer = self.outage
        else:
            exchange.answer = self._answer(exchange)
        return await self._respond(exchange.answer)

    def _answer(self, exchange: Exchange) -> Reply:
        name, message = exchange.name, exchange.message
        if self.answers[name]:
            reply = self.answers[name].popleft()
            if isinstance(reply, Later):
                inner = reply.reply if reply.reply is not None else self._default(name, message)
                return Later(reply.delay, inner(message) if callable(inner) else inner)
            return reply(message) if callable(reply) else reply
        if name == "oadrPoll":
            if not self.queue:
                self.last_idle_poll = exchange.seq
                return m.Response(m.EiResponse(), ven_id=self.ven_id)
            item = self.queue.popleft()
            item = item() if callable(item) else item
            self.last_handout = exchange.seq
            self.handed_out.append((exchange.seq, item))
            return item
        return self._default(name, message)

    def _default(self, name: str, msg: object) -> Reply:
        ok = m.EiResponse
        if isinstance(msg, m.QueryRegistration):
            return m.CreatedPartyRegistration(
                ok(request_id=msg.request_id), self.vtn_id, self.registration_id, self.ven_id, self.poll_freq
            )
        if isinstance(msg, m.CreatePartyRegistration):
            return m.CreatedPartyRegistration(
                ok(request_id=msg.request_id), self.vtn_id, self.registration_id, self.ven_id, self.poll_freq
            )
        if isinstance(msg, m.CancelPartyRegistration):
            return m.CanceledPartyRegistration(ok(request_id=msg.request_id), msg.registration_id, self.ven_id)
        if isinstance(msg, m.CanceledPartyRegistration | m.CreatedEvent | r.RegisteredReport | r.UpdatedReport) or name in (
            "oadrCreatedReport",
            "oadrCanceledReport",
        ):
            return m.Response(ok(request_id=msg.response.request_id), ven_id=self.ven_id)  # type: ignore[attr-defined]
        if isinstance(msg, m.Response):
            return Raw(b"")
        if isinstance(msg, m.RequestEvent):
            return m.DistributeEvent(request_id=msg.request_id, vtn_id=self.vtn_id, events=())
        if isinstance(msg, r.RegisterReport):
            return r.RegisteredReport(ok(request_id=msg.request_id), self.ven_id)
        if isinstance(msg, r.UpdateReport):
            return r.UpdatedReport(ok(request_id=msg.request_id), self.ven_id)
        if isinstance(msg, r.CreateReport):
            return m.Acknowledgement("oadrCreatedReport", ok(request_id=msg.request_id), ven_id=self.ven_id)
        if isinstance(msg, r.CancelReport):
            return m.Acknowledgement("oadrCanceledReport", ok(request_id=msg.request_id), ven_id=self.ven_id)
        if isinstance(msg, r.CreateOpt):
            return m.Acknowledgement("oadrCreatedOpt", ok(request_id=msg.request_id), opt_id=msg.opt_id)
        if isinstance(msg, r.CancelOpt):
            return m.Acknowledgement("oadrCanceledOpt", ok(request_id=msg.request_id), opt_id=msg.opt_id)
        return Raw(f"the scripted VTN has no answer to {name}".encode(), 400, "text/plain")

    async def _respond(self, answer: Reply) -> web.StreamResponse:
        if isinstance(answer, Later):
            await asyncio.sleep(answer.delay)
            return await self._respond(answer.reply)
        if isinstance(answer, Raw):
            if answer.delay:
                await asyncio.sleep(answer.delay)
            headers = {"Content-Type": answer.content_type} if answer.content_type else {}
            return web.Response(body=answer.body, status=answer.status, headers=headers)
        if isinstance(answer, bytes):
            return web.Response(body=answer, headers={"Content-Type": "application/xml"})
        body = encode(answer)  # type: ignore[arg-type]
        problem = schema_errors(parse_xml(body))
        if problem is not None:  # a defect of the test itself, not of the VEN
            self.problems.append(f"the scripted VTN built a schema-invalid {type(answer).__name__}: {problem}")
        return web.Response(body=body, headers={"Content-Type": "application/xml"})

    # --- script ---------------------------------------------------------------------------------

    def push(self, *items: object) -> None:
        """Queue items for the next polls, one per poll."""
        self.queue.extend(items)

    def answer_next(self, name: str, *replies: Reply) -> None:
        """Answer the next VEN messages named `name` with `replies`, in order (then the defaults)."""
        self.answers[name].extend(replies)

    # --- what the VEN sent ----------------------------------------------------------------------

    def mark(self) -> int:
        """The sequence number of the last request so far (to look at what comes after it)."""
        return self.exchanges[-1].seq if self.exchanges else 0

    def received(self, name: str | None = None, after: int = 0) -> list[Exchange]:
        """Requests of the VEN (named `name`), after sequence number `after`."""
        return [x for x in self.exchanges if x.seq > after and (name is None or x.name == name)]

    def messages(self, name: str, after: int = 0) -> list:
        """Decoded messages named `name` the VEN sent after `after`."""
        return [x.message for x in self.received(name, after)]

    def event_responses(self, after: int = 0) -> list[tuple[m.CreatedEvent, m.EventResponse]]:
        """Every eventResponse of every oadrCreatedEvent, with its message."""
        return [(c, e) for c in self.messages("oadrCreatedEvent", after) for e in c.event_responses]

    def responses_to(self, event: m.Event, after: int = 0) -> list[m.EventResponse]:
        """The eventResponses for this event and modification."""
        return [
            e
            for _c, e in self.event_responses(after)
            if e.event_id == event.event_id and e.modification_number == event.modification_number
        ]

    def updates_for(self, report_request_id: str, after: int = 0) -> list[r.ReportData]:
        """The oadrReports the VEN sent for one report request."""
        return [
            d for u in self.messages("oadrUpdateReport", after) for d in u.reports if d.report_request_id == report_request_id
        ]

    # --- waiting --------------------------------------------------------------------------------

    def check(self) -> None:
        """Fail at once when the VEN sent anything invalid."""
        if self.problems:
            raise AssertionError("\n".join(self.problems))

    async def wait(self, condition: Callable[[], object], what: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Wait for `condition` (bounded); fail with `what` on timeout, or at once on an invalid VEN message."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self.check()
            if condition():
                return
            if loop.time() > deadline:
                raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
            await asyncio.sleep(0.02)

    async def settle(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Wait until all that was queued was handed out and the VEN polled once more: a pull VEN
        handles (and answers) what one poll gave it before it polls again, so after this every
        synchronous answer to the queued messages has arrived."""
        await self.wait(
            lambda: not self.queue and self.last_idle_poll > self.last_handout,
            "the VEN to take everything queued and poll again",
            timeout,
        )

    async def next_message(self, name: str, after: int, timeout: float = DEFAULT_TIMEOUT) -> object:
        """The first message named `name` the VEN sends after `after` (waits for it)."""
        await self.wait(lambda: self.received(name, after), f"an {name} from the VEN", timeout)
        return self.received(name, after)[0].message


# --- the VEN under test ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One callback of the VEN into the application."""

    kind: str
    event_id: str
    detail: object
    at: datetime
    event: m.Event


@dataclass
class RecordingHooks:
    """EventHooks that keep every call, with the wall-clock time it was made."""

    calls: list[Call] = field(default_factory=list)

    def _add(self, kind: str, event: m.Event, detail: object) -> None:
        self.calls.append(Call(kind, event.event_id, detail, datetime.now(UTC), event))

    async def on_event(self, site: SiteConfig, event: m.Event, opt_type: str) -> None:
        """Record."""
        self._add("event", event, (event.modification_number, opt_type))

    async def on_start(self, site: SiteConfig, event: m.Event, resumed: bool) -> None:
        """Record."""
        self._add("start", event, resumed)

    async def on_interval(self, site: SiteConfig, event: m.Event, index: int) -> None:
        """Record."""
        self._add("interval", event, index)

    async def on_end(self, site: SiteConfig, event: m.Event) -> None:
        """Record."""
        self._add("end", event, None)

    async def on_cancel(self, site: SiteConfig, event: m.Event, implicit: bool) -> None:
        """Record."""
        self._add("cancel", event, implicit)

    def of(self, event_id: str, kind: str | None = None) -> list[Call]:
        """The calls for one event (of one kind)."""
        return [c for c in self.calls if c.event_id == event_id and (kind is None or c.kind == kind)]

    def kinds(self, event_id: str) -> list[str]:
        """The kinds of calls for one event, in order."""
        return [c.kind for c in self.of(event_id)]


SITE = "site-1"


class Th:
    """The test harness of one case: the scripted VTN, our VEN process and its recorded callbacks."""

    def __init__(self, vtn: ScriptedVtn, tmp_path: Path) -> None:
        self.vtn = vtn
        self.tmp_path = tmp_path
        self.hooks = RecordingHooks()
        self.process: VenProcess | None = None
        self.site_name = SITE

    def config(
        self,
        *,
        expect_vtn_id: str | None = "",
        opt: OptPolicy | None = None,
        sites: Iterable[str] = (SITE,),
        **changes: object,
    ) -> VenConfig:
        """The VEN configuration: this VTN, fast polls and back-off, the store in tmp_path."""
        settings: dict[str, object] = dict(
            vtn_url=self.vtn.url,
            vtn_id=self.vtn.vtn_id if expect_vtn_id == "" else expect_vtn_id,
            store_path=self.tmp_path / "ven.db",
            request_timeout=timedelta(seconds=1),
            default_poll_interval=timedelta(seconds=0.1),
            max_backoff=timedelta(seconds=0.5),
            # a home battery: a site with something to shed, so that a SIMPLE level is opted in
            sites=tuple(
                SiteConfig(name=s, ven_name=f"{s}-ven", opt=opt or OptPolicy(programs=ENROLLED), asset={"kind": "battery"})
                for s in sites
            ),
        )
        settings.update(changes)
        return VenConfig(**settings)  # type: ignore[arg-type]

    async def start_ven(self, *, registered: bool = True, **config: object) -> SiteVen:
        """Start the VEN process; with `registered`, wait until it registered and drained its first polls."""
        self.process = VenProcess(self.config(**config), hooks=self.hooks)  # type: ignore[arg-type]
        await self.process.start(spread_first_polls=False)
        self.site_name = next(iter(self.process.vens))
        if registered:
            await self.wait(lambda: self.ven.site.registration is not None, "the VEN to register")
            await self.vtn.settle()
        return self.ven

    async def stop_ven(self) -> None:
        """Stop the VEN process (its store stays in tmp_path)."""
        if self.process is not None:
            await self.process.stop()
            self.process = None

    @property
    def ven(self) -> SiteVen:
        """The site VEN under test."""
        assert self.process is not None, "the VEN is not running"
        return self.process.vens[self.site_name]

    def running(self) -> bool:
        """The VEN's task is alive."""
        return self.process is not None and all(not t.done() for t in self.process._tasks)

    def held(self) -> dict[str, KnownEvent]:
        """The events the VEN holds in its store."""
        return self.ven.site.store.events(self.site_name)

    def pending_report_requests(self) -> list[str]:
        """The report requests the VEN is working on."""
        return [q.report_request_id for q, _n, _u in self.ven.site.store.report_requests(self.site_name)]

    async def wait(self, condition: Callable[[], object], what: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Bounded wait (see ScriptedVtn.wait)."""
        await self.vtn.wait(condition, what, timeout)

    async def deliver(self, *items: object) -> int:
        """Queue items, let the VEN take them all and answer; returns the mark taken before."""
        mark = self.vtn.mark()
        self.vtn.push(*items)
        await self.vtn.settle()
        return mark

    async def answer(self, event: m.Event, after: int = 0) -> m.EventResponse:
        """The VEN's (single) eventResponse for this event and modification (waits for it)."""
        await self.wait(lambda: self.vtn.responses_to(event, after), f"an eventResponse for {event.event_id}")
        found = self.vtn.responses_to(event, after)
        assert len(found) == 1, f"{len(found)} eventResponses for {event.event_id} mod {event.modification_number}"
        return found[0]

    async def still_polling(self) -> None:
        """The VEN is alive and keeps polling (after whatever the test did)."""
        assert self.running(), "the VEN's task ended"
        mark = self.vtn.mark()
        await self.wait(lambda: self.vtn.received("oadrPoll", mark), "the VEN to poll again")
