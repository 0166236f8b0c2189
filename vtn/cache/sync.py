"""Loading the cache at start-up and keeping it in step with the store's change feed."""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import psycopg

from vtn.context import VtnContext
from vtn.domain import OutboxItem
from vtn.lifecycle import Lifecycle
from vtn.store import repository as repo

log = logging.getLogger("cariflex.vtn.sync")


#: last-seen times written per transaction
SEEN_CHUNK = 500

#: how long a hole in the change ids is looked at again: on PostgreSQL ids are taken at insert but
#: become visible at commit, so a slower transaction can commit a lower id after a higher one was read
GAP_GRACE_SECONDS = 60.0
#: at most this many holes are tracked (rolled-back transactions leave holes that never fill)
MAX_GAPS = 10_000
#: changes read from the feed per query
FEED_BATCH = 10_000
#: at start-up, holes among this many newest change ids are watched like those seen later
START_GAP_WINDOW = 1_000


class StoreSync:
    """Fills `ctx.live` from the store, then applies changes others wrote."""

    def __init__(self, ctx: VtnContext, lifecycle: Lifecycle) -> None:
        self.ctx = ctx
        self.lifecycle = lifecycle
        self.last_change = 0
        #: change ids skipped over (not yet committed when read) → monotonic time first missed
        self.gaps: dict[int, float] = {}
        self._lock = asyncio.Lock()
        #: monotonic time at which the newest completed refresh started: everything committed before is applied
        self.fresh_as_of = 0.0
        #: the newest committed change id, cheaply (PostgreSQL: vtn.cluster.listen.ChangeProbe); None: always read the feed
        self.probe: Callable[[], Awaitable[int]] | None = None

    def load_all(self) -> None:
        """Read everything the poll path needs (synchronously, before serving)."""
        store, live = self.ctx.store, self.ctx.live
        self.last_change = store.call_sync(repo.last_change_id)
        # a transaction holding a lower id may still commit after what follows is read: watch its hole
        low = max(1, self.last_change - START_GAP_WINDOW + 1)
        committed = store.call_sync(repo.change_ids_between, low, self.last_change)
        now = time.monotonic()
        self.gaps = {missing: now for missing in range(low, self.last_change + 1) if missing not in committed}
        for ven in store.call_sync(repo.load_vens):
            live.put_ven(ven)
        live.groups_by_name, live.resources_by_name = store.call_sync(repo.load_memberships)
        live.acknowledged = store.call_sync(repo.acknowledgements)
        for event in store.call_sync(repo.load_live_events):
            live.put_event(event)
            self.lifecycle.schedule(event)
        pending: dict[str, list[OutboxItem]] = {}
        for item in store.call_sync(repo.pending_outbox, None):
            pending.setdefault(item.ven_id, []).append(item)
        for ven_id, items in pending.items():
            live.set_outbox(ven_id, items)
        log.info(
            "loaded %d VENs, %d live events, %d queued messages",
            len(live.vens),
            len(live.events),
            sum(map(len, pending.values())),
        )

    async def refresh(self) -> None:
        """Apply changes newer than the last one seen, except this process's own (already applied): everything
        committed before now (see `catch_up`). Also the fence before a VEN is given events."""
        await self.catch_up(time.monotonic())

    async def catch_up(self, since: float) -> None:
        """Make sure every change committed before `since` (a time.monotonic() value) is applied.

        Refreshes run one at a time; a caller that waited for a refresh which started after `since`
        needs no other, so concurrent polls share one database round trip."""
        async with self._lock:
            if self.fresh_as_of >= since:
                return
            started = time.monotonic()
            if not self.gaps and await self._nothing_newer():
                self.fresh_as_of = started
                return
            while await self._apply_changes() == FEED_BATCH:  # a full batch: more may follow
                pass
            self.fresh_as_of = started

    async def _nothing_newer(self) -> bool:
        """True when the probe says no change beyond the last one read has been committed (with no holes
        left behind, every committed id up to it has been read); False when unsure."""
        if self.probe is None:
            return False
        try:
            return await self.probe() <= self.last_change
        except (psycopg.Error, OSError) as exc:
            log.warning("change probe failed (%s); reading the change feed instead", exc)
            return False

    def _note_gaps(self, ids: list[int]) -> None:
        """Remember ids skipped over by `ids` (read in order), forget filled and expired holes."""
        now = time.monotonic()
        previous = self.last_change
        for change_id in ids:
            self.gaps.pop(change_id, None)
            if change_id > previous:
                for missing in range(max(previous + 1, change_id - MAX_GAPS), change_id):
                    self.gaps[missing] = now
                previous = change_id
        for change_id in [i for i, at in self.gaps.items() if now - at > GAP_GRACE_SECONDS]:
            del self.gaps[change_id]
        for change_id in sorted(self.gaps)[: max(0, len(self.gaps) - MAX_GAPS)]:
            del self.gaps[change_id]

    async def _apply_changes(self) -> int:
        """Read and apply one batch of the change feed; returns how many changes it held."""
        changes = await self.ctx.store.call(repo.changes_since, self.last_change, FEED_BATCH, also=sorted(self.gaps))
        if not changes:
            return 0
        self._note_gaps([c[0] for c in changes])
        self.last_change = max(self.last_change, changes[-1][0])
        kinds: dict[str, set[str]] = {}
        for _, kind, key, origin in changes:
            if origin != self.ctx.store.origin:
                kinds.setdefault(kind, set()).add(key)
        store, live = self.ctx.store, self.ctx.live
        if kinds.get("ven"):
            for ven in await store.call(repo.load_vens_by_id, kinds["ven"]):
                live.put_ven(ven)
        if kinds.get("event"):
            for event, closed in await store.call(repo.load_events_by_id, kinds["event"]):
                live.put_event(event, closed)
                if not closed:
                    self.lifecycle.schedule(event)
        if kinds.get("outbox"):
            pending: dict[str, list[OutboxItem]] = {ven_id: [] for ven_id in kinds["outbox"]}
            for item in await store.call(repo.pending_outbox, None, kinds["outbox"]):
                pending[item.ven_id].append(item)
            for ven_id, items in pending.items():
                live.set_outbox(ven_id, items)
        if kinds.get("ack"):
            for ven_id, event_id, number in await store.call(repo.answers_by_id, kinds["ack"]):
                live.acknowledge(ven_id, event_id, number)
        for ven_id in kinds.get("report_meta", ()):
            live.offered.pop(ven_id, None)  # registered elsewhere: read again on next use
        if "membership" in kinds:
            live.groups_by_name, live.resources_by_name = await store.call(repo.load_memberships)
        return len(changes)

    async def flush_deliveries(self) -> None:
        """Write buffered first deliveries (every few seconds: operators follow them)."""
        deliveries = self.ctx.take_deliveries()
        if deliveries:
            await self.ctx.store.call(repo.record_deliveries, deliveries)

    async def flush_seen(self) -> None:
        """Write buffered last-seen times (rarely: one row per VEN, and a poll every 10 s needs no finer record)."""
        seen = list(self.ctx.take_seen().items())
        for start in range(0, len(seen), SEEN_CHUNK):  # small chunks: the poll path keeps the interpreter in between
            await self.ctx.store.call(repo.touch_vens, dict(seen[start : start + SEEN_CHUNK]))

    async def flush(self) -> None:
        """Write everything buffered (at shutdown)."""
        await self.flush_deliveries()
        await self.flush_seen()
