"""Loading the cache at start-up and keeping it in step with the store's change feed."""

import logging

from vtn.context import VtnContext
from vtn.domain import OutboxItem
from vtn.lifecycle import Lifecycle
from vtn.store import repository as repo

log = logging.getLogger("cariflex.vtn.sync")


#: last-seen times written per transaction
SEEN_CHUNK = 500


class StoreSync:
    """Fills `ctx.live` from the store, then applies changes others wrote."""

    def __init__(self, ctx: VtnContext, lifecycle: Lifecycle) -> None:
        self.ctx = ctx
        self.lifecycle = lifecycle
        self.last_change = 0

    def load_all(self) -> None:
        """Read everything the poll path needs (synchronously, before serving)."""
        store, live = self.ctx.store, self.ctx.live
        self.last_change = store.call_sync(repo.last_change_id)
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
        """Apply changes newer than the last one seen, except this process's own (already applied)."""
        changes = await self.ctx.store.call(repo.changes_since, self.last_change)
        if not changes:
            return
        self.last_change = changes[-1][0]
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
        for ven_id in kinds.get("report_meta", ()):
            live.offered.pop(ven_id, None)  # registered elsewhere: read again on next use
        if "membership" in kinds:
            live.groups_by_name, live.resources_by_name = await store.call(repo.load_memberships)

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
