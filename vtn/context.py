"""The running VTN's state, handed to every service: configuration, cache, store, clock."""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from certs.xmlsig import Signer
from observability.tally import Tally
from vtn.auth.throttle import FailureThrottle
from vtn.cache.live import LiveState
from vtn.config import VtnConfig
from vtn.oadr.ingest import IngestBatcher
from vtn.ops.metrics import EVENT_DELIVERIES
from vtn.store.group_commit import GroupCommit
from vtn.store.worker import StoreWorker


def utc_now() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)


def new_id(prefix: str) -> str:
    """A fresh identifier such as `ven-3f2a…` or `reg-…`."""
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


async def _nothing() -> None:
    """Nothing to catch up with."""


@dataclass
class VtnContext:
    """One VTN process. Buffers (last seen, deliveries) are flushed to the store periodically."""

    config: VtnConfig
    store: StoreWorker
    live: LiveState = field(default_factory=LiveState)
    clock: Callable[[], datetime] = utc_now
    seen: dict[str, datetime] = field(default_factory=dict)
    deliveries: list[tuple[str, str, int, datetime]] = field(default_factory=list)
    _recorded: set[tuple[str, str, int]] = field(default_factory=set)
    ingest: IngestBatcher = field(init=False)
    #: the small per-request writes of the OpenADR services (a queued message claimed, an oadrCreatedEvent
    #: recorded), several to a transaction when they arrive together: a fan-out burst's writes do not queue
    #: one transaction each behind each other (vtn/store/group_commit.py)
    writes: GroupCommit = field(init=False)
    #: signs answers to VENs that use XML signatures (the VTN's TLS certificate; None without TLS)
    signer: Signer | None = None
    #: this process's metric counts (read by /metrics)
    tally: Tally = field(default_factory=Tally)
    #: failed client-secret checks at the token endpoints (OpenADR 3, aggregators), per client_id and address
    token_failures: FailureThrottle = field(default_factory=FailureThrottle)
    #: applies what other processes committed so far (before giving a VEN events: it may have been
    #: given newer ones by another process); a no-op for a store only this process serves (SQLite)
    catch_up: Callable[[], Awaitable[None]] = field(default=lambda: _nothing())

    def __post_init__(self) -> None:
        self.ingest = IngestBatcher(self.store, self.now)
        self.writes = GroupCommit(self.store)

    def now(self) -> datetime:
        """The current time."""
        return self.clock()

    def note_delivery(self, ven_id: str, event_id: str, modification_number: int, at: datetime) -> None:
        """Remember that a VEN was given an event modification (written on the next flush)."""
        key = (ven_id, event_id, modification_number)
        if key not in self._recorded:
            self._recorded.add(key)
            self.tally.inc(EVENT_DELIVERIES)
            self.deliveries.append((ven_id, event_id, modification_number, at))

    def take_deliveries(self) -> list[tuple[str, str, int, datetime]]:
        """Hand over and clear the first deliveries waiting to be written."""
        deliveries, self.deliveries = self.deliveries, []
        return deliveries

    def take_seen(self) -> dict[str, datetime]:
        """Hand over and clear the last-seen times waiting to be written."""
        seen, self.seen = self.seen, {}
        return seen
