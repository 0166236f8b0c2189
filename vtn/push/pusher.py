"""The pusher: a background job that POSTs to each push-mode VEN what a poll would have given it.

For every VEN registered with httpPullModel false it takes the same next message the poll path
would (queued VTN requests first, then the events when they changed), POSTs it to
`<transportAddress>/<service>` and hands the VEN's answer (oadrCreatedEvent, oadrCreatedReport,
oadrRegisteredReport, oadrResponse…) to the same services as if the VEN had posted it.

Delivery is durable: a queued message stays in the store's outbox until the VEN answered (HTTP 200),
and the events a VEN holds are only noted once it answered, so after a VTN restart everything not
answered is pushed again. A VEN that is unreachable, answers 5xx/4xx, times out or presents another
certificate than the one it registered with is retried with exponential back-off and jitter. One
push at a time per VEN (its messages keep their order), `concurrency` over all VENs.

`start()`/`stop()` are all a supervisor needs (e.g. to run it on the lifecycle leader only).
"""

import asyncio
import logging
import random
import ssl
import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field, replace

import aiohttp
from aiohttp.connector import Connection

from certs.fingerprint import fingerprint_of_der
from certs.tls import client_context, peer_der
from certs.xmlsig import sign
from mapping.oadr.codes import OadrError
from mapping.oadr.encode import encode
from mapping.oadr.xsd import MessageRejected
from vtn.context import VtnContext
from vtn.domain import OUTBOX_WIRE, LiveEvent, OutboxItem, VenRecord
from vtn.metrics import PUSH_ATTEMPTS, PUSH_BAD_ANSWERS, PUSH_RETRIES
from vtn.openadr_http import take_answer
from vtn.push.settings import PushConfig
from vtn.services.events import encode_events, note_distribution
from vtn.services.poll import after_outbox_delivery, outbox_message
from vtn.store import repository as repo

log = logging.getLogger("cariflex.vtn.push")


@dataclass(frozen=True)
class PushCounters:
    """How pushing goes, as counted in the process' tally (the /metrics counters)."""

    #: POSTs of a message whose previous attempt failed
    retries: int
    #: POSTs that did not deliver: unreachable, timeout, HTTP error, wrong certificate
    failures: int
    #: messages the VEN answered (HTTP 200)
    delivered: int
    #: answers that were not a valid OpenADR message, or were refused as if posted
    bad_answers: int


@dataclass
class _VenState:
    failures: int = 0
    not_before: float = 0.0
    #: the event keys last pushed and when (an unanswered event is pushed again only after a while)
    last_events: tuple[tuple[str, int, str], ...] = ()
    last_events_at: float = 0.0


@dataclass(frozen=True)
class _Outcome:
    delivered: bool
    answer: bytes = b""
    fingerprint: str | None = None
    why: str = ""


@dataclass
class Pusher:
    """Pushes to push-mode VENs; `counters` tells how it goes."""

    ctx: VtnContext
    config: PushConfig
    _states: dict[str, _VenState] = field(default_factory=dict)
    _busy: set[str] = field(default_factory=set)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _loop_task: asyncio.Task[None] | None = None
    _session: aiohttp.ClientSession | None = None
    _stopping: bool = False
    #: `concurrency` POSTs in flight at most; a push waits here, not in the pool (whose wait counts in the timeout)
    _slots: asyncio.Semaphore | None = None

    @property
    def counters(self) -> PushCounters:
        """What was counted so far (read from the tally /metrics exposes)."""
        counts = self.ctx.tally.counts
        attempts = counts.get(PUSH_ATTEMPTS, {})
        return PushCounters(
            retries=int(counts.get(PUSH_RETRIES, {}).get((), 0)),
            failures=int(attempts.get(("failed",), 0)),
            delivered=int(attempts.get(("delivered",), 0)),
            bad_answers=int(counts.get(PUSH_BAD_ANSWERS, {}).get((), 0)),
        )

    async def start(self) -> None:
        """Begin pushing (idempotent)."""
        if self._loop_task is not None:
            return
        self._stopping = False
        self._slots = asyncio.Semaphore(self.config.concurrency)
        ssl_context = self._ssl_context()
        connector = aiohttp.TCPConnector(limit=self.config.concurrency, ssl=ssl_context if ssl_context else True)
        self._session = aiohttp.ClientSession(connector=connector, request_class=_PinnedRequest, response_class=_PinnedResponse)
        self._loop_task = asyncio.create_task(self._run(), name="vtn-pusher")

    async def stop(self) -> None:
        """Stop pushing; pushes in flight are abandoned (their messages stay queued)."""
        task, self._loop_task = self._loop_task, None
        if task is None:
            return
        self._stopping = True
        task.cancel()
        for running in list(self._tasks):
            running.cancel()
        await asyncio.gather(task, *self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    def kick(self) -> None:
        """Look for something to push now rather than at the next scan."""
        self._wake.set()

    def in_flight(self, ven_id: str) -> bool:
        """True while a push to `ven_id` awaits its answer."""
        return ven_id in self._busy

    def _ssl_context(self) -> ssl.SSLContext | None:
        tls = self.ctx.config.tls
        if tls is None:
            return None
        # the VEN's server certificate must come from our CA; it is then pinned to the fingerprint
        # the VEN registered with (a VEN's endpoint is often reached by address, not by name)
        return client_context(replace(tls, check_hostname=False))

    async def _run(self) -> None:
        while not self._stopping:
            try:
                self.scan()
            except Exception:  # a defect must not stop delivery to every VEN
                log.exception("push scan failed")
            self._wake.clear()
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation that
            # arrives as the event is set, and stop() would then wait for ever
            try:
                async with asyncio.timeout(self.config.scan_interval.total_seconds()):
                    await self._wake.wait()
            except TimeoutError:
                pass

    # --- choosing -----------------------------------------------------------------------------

    def scan(self) -> int:
        """Start a push to every push-mode VEN that has something new and is not waiting; returns how many."""
        now = time.monotonic()
        started = 0
        for ven in list(self.ctx.live.vens.values()):
            if ven.http_pull_model or not ven.transport_address or ven.ven_id in self._busy:
                continue
            state = self._states.setdefault(ven.ven_id, _VenState())
            if now < state.not_before:
                continue
            item = self.ctx.live.next_outbox(ven.ven_id)
            events = None if item is not None or not ven.registered else self._events_due(ven, state, now)
            if item is None and events is None:
                continue
            self._busy.add(ven.ven_id)
            task = asyncio.create_task(self._push(ven, item, events))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            started += 1
        return started

    def _events_due(self, ven: VenRecord, state: _VenState, now: float) -> list[LiveEvent] | None:
        live = self.ctx.live
        events = live.events_for(ven)
        if not live.needs_distribution(ven.ven_id, events):
            return None
        keys = tuple(e.key for e in events)
        unchanged = keys == live.delivered.get(ven.ven_id) and keys == state.last_events
        if unchanged and now - state.last_events_at < self.config.resend_unanswered.total_seconds():
            return None  # only an answer is missing: the VEN gets a while to send its oadrCreatedEvent
        return events

    # --- pushing ------------------------------------------------------------------------------

    async def _push(self, ven: VenRecord, item: OutboxItem | None, events: list[LiveEvent] | None) -> None:
        try:
            if item is not None:
                body, service = encode(await outbox_message(self.ctx, ven, item)), OUTBOX_WIRE[item.kind][1]
            else:
                body, service = encode_events(self.ctx, events or []), "EiEvent"
            assert self._slots is not None
            async with self._slots:
                outcome = await self._post(ven, service, self._signed(ven, body))
            state = self._states.setdefault(ven.ven_id, _VenState())
            self.ctx.tally.inc(PUSH_ATTEMPTS, ("delivered" if outcome.delivered else "failed",))
            if state.failures:
                self.ctx.tally.inc(PUSH_RETRIES)
            if not outcome.delivered:
                self._failed(ven, state, outcome.why)
                return
            state.failures, state.not_before = 0, 0.0
            if item is not None:
                # shielded: once the VEN has the message, stopping the pusher must not leave it claimed in the
                # store but without its follow-up (a cancelled registration, a report request marked requested)
                await asyncio.shield(self._delivered_item(ven, item))
            else:
                note_distribution(self.ctx, ven, events or [])
                state.last_events, state.last_events_at = tuple(e.key for e in events or []), time.monotonic()
            if outcome.answer.strip():
                await self._take(ven, outcome)
        except asyncio.CancelledError:
            raise
        except Exception:  # one VEN's trouble must not stop the others
            log.exception("push to VEN %s failed", ven.ven_id)
            self._failed(ven, self._states.setdefault(ven.ven_id, _VenState()), "internal error")
        finally:
            self._busy.discard(ven.ven_id)
            self._wake.set()  # the VEN may have more queued

    def _signed(self, ven: VenRecord, body: bytes) -> bytes:
        if ven.xml_signature and self.ctx.signer is not None:
            return sign(body, self.ctx.signer, self.ctx.now(), uuid.uuid4().hex)
        return body

    async def _post(self, ven: VenRecord, service: str, body: bytes) -> _Outcome:
        assert self._session is not None and ven.transport_address is not None
        url = f"{ven.transport_address.rstrip('/')}/{service}"
        timeout = aiohttp.ClientTimeout(total=self.config.timeout.total_seconds())
        _PIN.set(ven.fingerprint)  # this task's own context: concurrent pushes do not see it
        try:
            async with self._session.post(url, data=body, headers={"Content-Type": "application/xml"}, timeout=timeout) as resp:
                fingerprint = resp.peer_fingerprint if isinstance(resp, _PinnedResponse) else None
                data = await resp.read()
                status = resp.status
        except (TimeoutError, aiohttp.ClientError, OSError, ssl.SSLError) as exc:
            return _Outcome(False, why=f"{url}: {exc.__class__.__name__}: {exc}")
        if ven.fingerprint is not None and fingerprint != ven.fingerprint:  # e.g. plain http to a VEN bound to a certificate
            why = f"{url} presented certificate {fingerprint}; VEN {ven.ven_id} registered with {ven.fingerprint}"
            return _Outcome(False, why=why)
        if status != 200:
            return _Outcome(False, why=f"{url}: HTTP {status}")
        return _Outcome(True, data, fingerprint)

    def _failed(self, ven: VenRecord, state: _VenState, why: str) -> None:
        state.failures += 1
        low, high = self.config.min_backoff.total_seconds(), self.config.max_backoff.total_seconds()
        delay = min(high, low * 2 ** min(state.failures - 1, 30))
        wait = random.uniform(delay / 2, delay)
        state.not_before = time.monotonic() + wait
        log.warning("push to VEN %s failed (%s); attempt %d, next in %.1f s", ven.ven_id, why, state.failures, wait)

    async def _delivered_item(self, ven: VenRecord, item: OutboxItem) -> None:
        claimed = await self.ctx.store.call(repo.claim_outbox, item.id, self.ctx.now())
        self.ctx.live.drop_outbox_item(item)
        if claimed:
            log.info("pushed queued %s to VEN %s", item.kind, ven.ven_id)
            await after_outbox_delivery(self.ctx, self.ctx.live.vens.get(ven.ven_id, ven), item)

    async def _take(self, ven: VenRecord, outcome: _Outcome) -> None:
        try:
            name = await take_answer(self.ctx, outcome.answer, outcome.fingerprint)
            log.debug("VEN %s answered a push with %s", ven.ven_id, name)
        except MessageRejected as exc:
            self.ctx.tally.inc(PUSH_BAD_ANSWERS)
            log.warning("VEN %s answered a push with something that is not OpenADR: %s", ven.ven_id, exc.reason)
        except OadrError as exc:
            self.ctx.tally.inc(PUSH_BAD_ANSWERS)
            log.warning("VEN %s's answer to a push refused with %s: %s", ven.ven_id, int(exc.code), exc.description)


#: the certificate fingerprint the VEN being pushed to registered with (set per push task)
_PIN: ContextVar[str | None] = ContextVar("cariflex_push_pin", default=None)


class PinMismatch(aiohttp.ClientError):
    """The endpoint presented another certificate than the one its VEN registered with."""


def _fingerprint(connection: Connection) -> str | None:
    transport = connection.transport
    der = peer_der(transport.get_extra_info("ssl_object")) if transport is not None else None
    return fingerprint_of_der(der) if der else None


class _PinnedRequest(aiohttp.ClientRequest):
    """Checks the server's certificate against the VEN's registered fingerprint once connected and
    before anything is written, so a message never reaches an endpoint that is not the VEN's."""

    async def send(self, conn: Connection) -> aiohttp.ClientResponse:
        expected = _PIN.get()
        if expected is not None and (got := _fingerprint(conn)) != expected:
            raise PinMismatch(f"the endpoint presented certificate {got}, the VEN registered with {expected}")
        return await super().send(conn)


class _PinnedResponse(aiohttp.ClientResponse):
    """A response that remembers the certificate the server presented (read when the connection is
    handed over: an empty answer releases it before the caller could look)."""

    peer_fingerprint: str | None = None

    async def start(self, connection: Connection) -> "aiohttp.ClientResponse":
        self.peer_fingerprint = _fingerprint(connection)
        return await super().start(connection)
