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
    """Collects rows for `linger` seconds (or `max_rows`), then writes them in one store call."""

    def __init__(self, store: StoreWorker, clock: Callable[[], datetime], linger: float = 0.002, max_rows: int = 5000) -> None:
        self.store = store
        self.clock = clock
        self.linger = linger
        self.max_rows = max_rows
        self._pending: list[tuple[str, Rows, asyncio.Future]] = []
        self._rows = 0
        self._flusher: asyncio.Task | None = None

    async def submit(self, ven_id: str, rows: Rows) -> tuple[int, int]:
        """Store one message's rows; returns (stored, already stored)."""
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._pending.append((ven_id, rows, future))
        self._rows += len(rows)
        if self._rows >= self.max_rows:
            await self._flush()
        elif self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_later())
        return await future

    async def _flush_later(self) -> None:
        await asyncio.sleep(self.linger)
        await self._flush()

    async def _flush(self) -> None:
        batch, self._pending, self._rows = self._pending, [], 0
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
