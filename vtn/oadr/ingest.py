"""Report data written in batches: concurrent oadrUpdateReport messages share one transaction.

Each message still gets its own answer (stored / already stored), and a message is stored whole
or not at all — a failing batch fails every message in it, none half-way.
"""

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

from vtn.store import report_repository as reports
from vtn.store.worker import StoreWorker

Rows = list[dict[str, Any]]


class IngestBatcher:
    """Collects rows for `linger` seconds (or until `max_rows` wait), then writes them in one store call.

    One flusher task runs while anything waits: it writes batch after batch until the queue is empty,
    so a message queued while a batch is in the store goes out in the next one (issue 22: it used to
    wait for some later message to start a flusher)."""

    def __init__(self, store: StoreWorker, clock: Callable[[], datetime], linger: float = 0.002, max_rows: int = 5000) -> None:
        self.store = store
        self.clock = clock
        self.linger = linger
        self.max_rows = max_rows
        self._pending: list[tuple[str, Rows, asyncio.Future]] = []
        self._rows = 0
        self._full = asyncio.Event()
        self._flusher: asyncio.Task | None = None

    async def submit(self, ven_id: str, rows: Rows) -> tuple[int, int]:
        """Store one message's rows; returns (stored, already stored)."""
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._pending.append((ven_id, rows, future))
        self._rows += len(rows)
        if self._rows >= self.max_rows:
            self._full.set()  # no need to linger: the batch is as big as it gets
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._drain())
        return await future

    async def drain(self) -> None:
        """Wait until everything submitted so far is written (or has failed): before the store closes."""
        while self._flusher is not None and not self._flusher.done():
            await asyncio.shield(self._flusher)

    async def _drain(self) -> None:
        # the loop ends only with the queue empty, and a submit that finds this task done starts another:
        # no row is ever left without a flusher (the check and the end of the task are one step of the loop)
        while self._pending:
            if self._rows < self.max_rows:
                try:
                    await asyncio.wait_for(self._full.wait(), self.linger)
                except TimeoutError:
                    pass
            await self._flush()

    def _take(self) -> list[tuple[str, Rows, asyncio.Future]]:
        """The next batch: whole messages up to `max_rows` rows (at least one message), oldest first."""
        taken, rows = 0, 0
        while taken < len(self._pending) and (taken == 0 or rows + len(self._pending[taken][1]) <= self.max_rows):
            rows += len(self._pending[taken][1])
            taken += 1
        batch, self._pending = self._pending[:taken], self._pending[taken:]
        self._rows -= rows
        if self._rows < self.max_rows:
            self._full.clear()
        return batch

    async def _flush(self) -> None:
        batch = self._take()
        if not batch:
            return
        try:
            results = await self.store.call(reports.store_batch, [(ven_id, rows) for ven_id, rows, _ in batch], self.clock())
        except Exception as exc:
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, _, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
