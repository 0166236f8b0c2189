"""Group commit: small writes that arrive while a transaction is under way wait for it, then go together in
the next one.

A fan-out burst (an event to every VEN and their oadrCreatedEvent answers, or every VEN fetching a queued
message) makes one small write per request. One transaction each costs a commit (an fsync on SQLite, a
round trip on PostgreSQL) and the ORM's per-session work, all on the store's single thread: the writes
queue up behind each other and every request waiting on one waits for all those before it (issue 22,
finding 3). Grouped, N waiting writes cost one transaction. A lone write goes at once (no timer), so
steady-state latency is unchanged.

Each call's function runs in the shared transaction in arrival order. When the group's transaction fails,
each of its calls is run again alone, so that only the faulty one gets its exception — except when the
store is away (StoreDown): then every call of the group gets that answer at once.
"""

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from vtn.store import StoreDown
from vtn.store.worker import StoreWorker

T = TypeVar("T")

#: at most this many calls in one transaction (a bounded transaction keeps each wait bounded)
MAX_GROUP = 500

Call = tuple[Callable[..., Any], tuple[object, ...], "asyncio.Future[Any]"]


def _run_group(session: Any, calls: list[tuple[Callable[..., Any], tuple[object, ...]]]) -> list[Any]:
    return [fn(session, *args) for fn, args in calls]


class GroupCommit:
    """Runs `fn(session, *args)` calls on `store`, several per transaction when they arrive together."""

    def __init__(self, store: StoreWorker, max_group: int = MAX_GROUP) -> None:
        self.store = store
        self.max_group = max_group
        self._waiting: list[Call] = []
        self._flusher: asyncio.Task[None] | None = None
        #: transactions run and calls they carried (benchmarks, tests)
        self.transactions = 0
        self.calls = 0
        self._in_flight = 0

    @property
    def backlog(self) -> int:
        """Calls not finished yet: in the transaction under way and waiting for the next."""
        return self._in_flight + len(self._waiting)

    async def call(self, fn: Callable[..., T], *args: object) -> T:
        """Run `fn(session, *args)` in a transaction shared with the calls waiting alongside; its result."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append((fn, args, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        # one flusher at a time; it runs until nothing waits, so a call arriving meanwhile is never stranded
        while self._waiting:
            group, self._waiting = self._waiting[: self.max_group], self._waiting[self.max_group :]
            self._in_flight = len(group)
            try:
                results = await self.store.call(_run_group, [(fn, args) for fn, args, _f in group])
            except StoreDown as exc:
                # the store is away: every call of the group gets the same answer now (retrying each alone
                # would make the last caller wait one call budget per call before it)
                for _fn, _args, future in group:
                    if not future.done():
                        future.set_exception(exc)
                continue
            except Exception:  # noqa: BLE001 - one call's failure must not fail the others: each runs again alone
                await self._one_by_one(group)
                continue
            finally:
                self._in_flight = 0
            self.transactions += 1
            self.calls += len(group)
            for (_fn, _args, future), result in zip(group, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def _one_by_one(self, group: list[Call]) -> None:
        for fn, args, future in group:
            try:
                result = await self.store.call(fn, *args)
            except Exception as exc:  # noqa: BLE001 - handed to its caller
                if not future.done():
                    future.set_exception(exc)
                continue
            self.transactions += 1
            self.calls += 1
            if not future.done():
                future.set_result(result)
