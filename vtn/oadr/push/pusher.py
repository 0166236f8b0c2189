"""The pusher: a background job that POSTs to each push-mode VEN what a poll would have given it.

For every VEN registered with httpPullModel false it takes the same next message the poll path
would (queued VTN requests first, then the events when they changed), POSTs it to
`<transportAddress>/<service>` and hands the VEN's answer (oadrCreatedEvent, oadrCreatedReport,
oadrRegisteredReport, oadrResponse…) to the same services as if the VEN had posted it.

Delivery is durable: a queued message stays in the store's outbox until the VEN answered (HTTP 200),
and the events a VEN holds are only noted once it answered, so after a VTN restart everything not
answered is pushed again. A VEN that is unreachable, answers 5xx, 408 or 429, times out or presents
another certificate than the one it registered with is retried with exponential back-off and jitter;
a VEN that registers again (new registration or transport address) starts without back-off. A queued
message the VEN refuses for good (any other HTTP 4xx), or one that cannot be encoded, is dropped
(logged as an error, counted as a bad answer), so it does not hold up the messages and events behind
it; a cancelled registration ends all the same, a report request is not marked requested. One push
at a time per VEN (its messages keep their order), `concurrency` over all VENs.

`start()`/`stop()` are all a supervisor needs (e.g. to run it on the lifecycle leader only).
"""

import asyncio
import logging
import random
import ssl
import time
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field, replace

import aiohttp

from certs.tls import client_context
from certs.xmlsig import sign
from mapping.oadr.codes import OadrError
from mapping.oadr.encode import encode
from mapping.oadr.xsd import MessageRejected
from vtn.context import VtnContext
from vtn.domain import OUTBOX_WIRE, LiveEvent, OutboxItem, VenRecord
from vtn.oadr.http import take_answer
from vtn.oadr.push.pinning import PIN, PinnedRequest, PinnedResponse
from vtn.oadr.push.settings import PushConfig
from vtn.oadr.services.events import encode_events, note_distribution
from vtn.oadr.services.poll import after_outbox_delivery, after_outbox_refusal, claim_queued, outbox_message
from vtn.ops.metrics import PUSH_ATTEMPTS, PUSH_BAD_ANSWERS, PUSH_RETRIES

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
    #: answers that were not a valid OpenADR message, not the answer to the pushed message, over-size, or
    #: refused as if posted; and queued messages the VEN refused for good (HTTP 4xx) or that could not be encoded
    bad_answers: int


@dataclass
class _VenState:
    #: the (registrationID, transport address) this state is about: a new one starts afresh
    registered_as: tuple[str | None, str | None] = (None, None)
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
    #: the VEN refused the message for good (HTTP 4xx other than 408 and 429): pushing it again is useless
    refused: bool = False
    #: the VEN took the message (HTTP 200) but its answer was longer than the VTN's max_body_bytes
    too_big: bool = False


#: 4xx statuses that say "later", not "never"
_TRANSIENT_4XX = (408, 429)


@dataclass
class Pusher:
    """Pushes to push-mode VENs; `counters` tells how it goes."""

    ctx: VtnContext
    config: PushConfig
    _states: dict[str, _VenState] = field(default_factory=dict)
    _busy: set[str] = field(default_factory=set)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    #: shielded store work (a claim and its follow-up) that must end before the store closes: stop() waits for it
    _finishing: set[asyncio.Task[object]] = field(default_factory=set)
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
        if ssl_context is None and self.ctx.config.proxy is not None:
            log.warning(
                "pushing without a client certificate: behind the TLS proxy this VTN has no [tls], so VENs whose push "
                "endpoint requires one cannot be pushed to; set [push.tls] cert, key and ca (docs/deployment.md)"
            )
        connector = aiohttp.TCPConnector(limit=self.config.concurrency, ssl=ssl_context if ssl_context else True)
        self._session = aiohttp.ClientSession(connector=connector, request_class=PinnedRequest, response_class=PinnedResponse)
        self._loop_task = asyncio.create_task(self._run(), name="vtn-pusher")

    async def stop(self) -> None:
        """Stop pushing; pushes in flight are abandoned (their messages stay queued), but a delivered
        message's claim and follow-up are waited for (at most the push timeout): the store closes next."""
        task, self._loop_task = self._loop_task, None
        if task is None:
            return
        self._stopping = True
        task.cancel()
        for running in list(self._tasks):
            running.cancel()
        await asyncio.gather(task, *self._tasks, return_exceptions=True)
        await self._wait_finishing()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _wait_finishing(self) -> None:
        if not self._finishing:
            return
        _done, late = await asyncio.wait(set(self._finishing), timeout=self.config.timeout.total_seconds())
        for task in late:  # a store that hangs must not hang the shutdown as well
            log.error("stopping: a pushed message's claim and follow-up did not finish in time; check the outbox")
            task.cancel()

    def kick(self) -> None:
        """Look for something to push now rather than at the next scan."""
        self._wake.set()

    def in_flight(self, ven_id: str) -> bool:
        """True while a push to `ven_id` awaits its answer."""
        return ven_id in self._busy

    def _ssl_context(self) -> ssl.SSLContext | None:
        tls = self.config.tls or self.ctx.config.tls
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
            state = self._state_for(ven)
            if now < state.not_before:
                continue
            item = self.ctx.live.next_outbox(ven.ven_id, self.ctx.now())
            if item is None and not (ven.registered and self._events_due(ven, state, now)):
                continue
            self._busy.add(ven.ven_id)
            task = asyncio.create_task(self._push(ven, item))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            started += 1
        return started

    def _state_for(self, ven: VenRecord) -> _VenState:
        """The VEN's push state. A VEN that registered again (new registrationID or transport address)
        is alive and reachable anew: it starts afresh, without the back-off of its earlier failures."""
        where = (ven.registration_id, ven.transport_address)
        state = self._states.get(ven.ven_id)
        if state is None or state.registered_as != where:
            if state is not None and state.failures:
                log.info("VEN %s registered again: its push back-off is reset", ven.ven_id)
            state = self._states[ven.ven_id] = _VenState(registered_as=where)
        return state

    def _events_due(self, ven: VenRecord, state: _VenState, now: float) -> bool:
        """Whether the VEN's events are to be pushed (they are read again, after catching up, when they are)."""
        live = self.ctx.live
        events = live.events_for(ven)
        if not live.needs_distribution(ven.ven_id, events):
            return False
        keys = tuple(e.key for e in events)
        unchanged = keys == live.delivered.get(ven.ven_id) and keys == state.last_events
        # only an answer is missing: the VEN gets a while to send its oadrCreatedEvent
        return not (unchanged and now - state.last_events_at < self.config.resend_unanswered.total_seconds())

    # --- pushing ------------------------------------------------------------------------------

    async def _push(self, ven: VenRecord, item: OutboxItem | None) -> None:
        events: list[LiveEvent] = []
        try:
            if item is not None:
                encoded = await self._encode_item(ven, item)
                if encoded is None:
                    return
                (body, service), pushed = encoded, OUTBOX_WIRE[item.kind][0]
            else:
                # as a poll does: another process may have given the VEN newer events than this cache holds
                await self.ctx.catch_up()
                events = self.ctx.live.events_for(self.ctx.live.vens.get(ven.ven_id, ven))
                body, service, pushed = encode_events(self.ctx, events), "EiEvent", "oadrDistributeEvent"
            assert self._slots is not None
            async with self._slots:
                outcome = await self._post(ven, service, self._signed(ven, body))
            state = self._state_for(ven)
            self.ctx.tally.inc(PUSH_ATTEMPTS, ("delivered" if outcome.delivered else "failed",))
            if state.failures:
                self.ctx.tally.inc(PUSH_RETRIES)
            if outcome.refused and item is not None:
                state.failures, state.not_before = 0, 0.0  # the VEN is there: what follows may be pushed now
                await self._refused(ven, item, outcome.why)
                return
            if not outcome.delivered:
                self._failed(ven, state, outcome.why)
                return
            state.failures, state.not_before = 0, 0.0
            if item is not None:
                # shielded: once the VEN has the message, stopping the pusher must not leave it claimed in the
                # store but without its follow-up (a cancelled registration, a report request marked requested)
                await self._shielded(self._delivered_item(ven, item))
            else:
                note_distribution(self.ctx, ven, events)
                state.last_events, state.last_events_at = tuple(e.key for e in events), time.monotonic()
            if outcome.too_big:
                self.ctx.tally.inc(PUSH_BAD_ANSWERS)
                limit = self.ctx.config.max_body_bytes
                log.warning("VEN %s answered a push of %s with more than %d bytes: not read", ven.ven_id, pushed, limit)
            elif outcome.answer.strip():
                await self._take(ven, outcome, pushed)
        except asyncio.CancelledError:
            raise
        except Exception:  # one VEN's trouble must not stop the others
            log.exception("push to VEN %s failed", ven.ven_id)
            self._failed(ven, self._state_for(ven), "internal error")
        finally:
            self._busy.discard(ven.ven_id)
            self._wake.set()  # the VEN may have more queued

    async def _encode_item(self, ven: VenRecord, item: OutboxItem) -> tuple[bytes, str] | None:
        """The queued item's body and service; None when it cannot be encoded (it is then dropped: pushing
        it again would fail the same way and hold up everything queued behind it)."""
        try:
            service = OUTBOX_WIRE[item.kind][1]
            return encode(await outbox_message(self.ctx, ven, item)), service
        except (KeyError, ValueError, TypeError) as exc:  # a defect of this item, not of the store or the network
            await self._refused(ven, item, f"it cannot be encoded: {exc.__class__.__name__}: {exc}")
            return None

    async def _refused(self, ven: VenRecord, item: OutboxItem, why: str) -> None:
        """Drop a queued item that can never be delivered, so the VEN's queue and events move on; only
        what holds without delivery follows (`after_outbox_refusal`)."""
        self.ctx.tally.inc(PUSH_BAD_ANSWERS)
        log.error(
            "VEN %s: queued %s (%s) dropped, not delivered: %s. Check the VEN's log for why it refuses it, "
            "then queue it again if it is still wanted",
            ven.ven_id,
            item.kind,
            OUTBOX_WIRE.get(item.kind, ("unknown message",))[0],
            why,
        )
        await self._shielded(self._dropped_undelivered(ven, item))

    async def _dropped_undelivered(self, ven: VenRecord, item: OutboxItem) -> None:
        if await claim_queued(self.ctx, item):
            await after_outbox_refusal(self.ctx, self.ctx.live.vens.get(ven.ven_id, ven), item)

    async def _shielded(self, work: Coroutine[object, object, object]) -> None:
        """Run store work to its end even if this push is cancelled; stop() waits for it."""
        task = asyncio.create_task(work)
        self._finishing.add(task)
        task.add_done_callback(self._finished)
        await asyncio.shield(task)

    def _finished(self, task: asyncio.Task[object]) -> None:
        self._finishing.discard(task)
        # its push, cancelled by stop(), no longer awaits it: say here what went wrong
        if self._stopping and not task.cancelled() and (exc := task.exception()) is not None:
            log.error("stopping: a pushed message's claim or follow-up failed: %s", exc, exc_info=exc)

    def _signed(self, ven: VenRecord, body: bytes) -> bytes:
        if ven.xml_signature and self.ctx.signer is not None:
            return sign(body, self.ctx.signer, self.ctx.now(), uuid.uuid4().hex)
        return body

    async def _post(self, ven: VenRecord, service: str, body: bytes) -> _Outcome:
        assert self._session is not None and ven.transport_address is not None
        url = f"{ven.transport_address.rstrip('/')}/{service}"
        timeout = aiohttp.ClientTimeout(total=self.config.timeout.total_seconds())
        PIN.set(ven.fingerprint)  # this task's own context: concurrent pushes do not see it
        try:
            async with self._session.post(url, data=body, headers={"Content-Type": "application/xml"}, timeout=timeout) as resp:
                fingerprint = resp.peer_fingerprint if isinstance(resp, PinnedResponse) else None
                data = await _read_limited(resp, self.ctx.config.max_body_bytes)
                status = resp.status
        except (TimeoutError, aiohttp.ClientError, OSError, ssl.SSLError) as exc:
            return _Outcome(False, why=f"{url}: {exc.__class__.__name__}: {exc}")
        if ven.fingerprint is not None and fingerprint != ven.fingerprint:  # e.g. plain http to a VEN bound to a certificate
            why = f"{url} presented certificate {fingerprint}; VEN {ven.ven_id} registered with {ven.fingerprint}"
            return _Outcome(False, why=why)
        if status != 200:
            said = (data or b"")[:200].decode(errors="replace").strip()
            why = f"{url}: HTTP {status}" + (f" {said!r}" if said else "")
            return _Outcome(False, why=why, refused=400 <= status < 500 and status not in _TRANSIENT_4XX)
        if data is None:
            return _Outcome(True, fingerprint=fingerprint, too_big=True)
        return _Outcome(True, data, fingerprint)

    def _failed(self, ven: VenRecord, state: _VenState, why: str) -> None:
        state.failures += 1
        low, high = self.config.min_backoff.total_seconds(), self.config.max_backoff.total_seconds()
        delay = min(high, low * 2 ** min(state.failures - 1, 30))
        wait = random.uniform(delay / 2, delay)
        state.not_before = time.monotonic() + wait
        log.warning("push to VEN %s failed (%s); attempt %d, next in %.1f s", ven.ven_id, why, state.failures, wait)

    async def _delivered_item(self, ven: VenRecord, item: OutboxItem) -> None:
        if await claim_queued(self.ctx, item):
            log.info("pushed queued %s to VEN %s", item.kind, ven.ven_id)
            await after_outbox_delivery(self.ctx, self.ctx.live.vens.get(ven.ven_id, ven), item)

    async def _take(self, ven: VenRecord, outcome: _Outcome, pushed: str) -> None:
        try:
            name = await take_answer(self.ctx, outcome.answer, outcome.fingerprint, pushed)
            log.debug("VEN %s answered a push with %s", ven.ven_id, name)
        except MessageRejected as exc:
            self.ctx.tally.inc(PUSH_BAD_ANSWERS)
            log.warning("VEN %s answered a push with something that is not OpenADR: %s", ven.ven_id, exc.reason)
        except OadrError as exc:
            self.ctx.tally.inc(PUSH_BAD_ANSWERS)
            log.warning("VEN %s's answer to a push refused with %s: %s", ven.ven_id, int(exc.code), exc.description)


async def _read_limited(resp: aiohttp.ClientResponse, limit: int) -> bytes | None:
    """The answer's body, or None when it is (or is announced as) longer than `limit` bytes: a VEN
    endpoint must not stream an unbounded body into the VTN. An over-size body is not read further
    (the connection is closed, not reused)."""
    if resp.content_length is not None and resp.content_length > limit:
        resp.close()
        return None
    data = bytearray()
    while len(data) <= limit:
        chunk = await resp.content.read(limit + 1 - len(data))
        if not chunk:
            return bytes(data)
        data += chunk
    resp.close()
    return None
