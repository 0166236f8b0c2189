"""Prompt cache invalidation on PostgreSQL: LISTEN for the NOTIFY that the `change` table's trigger
(migration 0010) sends on every write, and refresh the cache at once.

Bursts are folded: a notification only marks the cache stale, and one refresh at a time catches up
with everything written so far. When the listening connection drops, it is reopened (every `retry`)
and a refresh follows, for what was written meanwhile; the periodic refresh stays as the safety net.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

import psycopg

from vtn.cluster import pg_conn

log = logging.getLogger("cariflex.vtn.notify")

#: the channel migration 0010's trigger notifies
CHANNEL = "cariflex_change"


class ChangeListener:
    """Calls `on_change` soon after any process writes to the change feed."""

    def __init__(self, db_url: str, on_change: Callable[[], Awaitable[None]], retry: timedelta) -> None:
        self.db_url = db_url
        self.on_change = on_change
        self.retry = retry.total_seconds()
        #: True while LISTEN is in place (when False, only the periodic refresh keeps the cache fresh)
        self.listening = False
        self._stale = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Start listening and applying (in the background)."""
        self._tasks = [
            asyncio.create_task(self._listen(), name="change-listener"),
            asyncio.create_task(self._apply(), name="change-apply"),
        ]

    async def stop(self) -> None:
        """Stop both tasks (closing the listening connection)."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass
        self._tasks = []

    async def _listen(self) -> None:
        while True:
            try:
                connection = await pg_conn.connect(self.db_url, "cariflex-vtn-listen")
            except (psycopg.Error, OSError) as exc:
                log.warning("change listener: cannot connect (%s); retrying in %.0f s", exc, self.retry)
                await asyncio.sleep(self.retry)
                continue
            try:
                await connection.execute(f"LISTEN {CHANNEL}")
                self.listening = True
                self._stale.set()  # whatever was written while nobody listened
                async for _notify in connection.notifies():
                    self._stale.set()
            except (psycopg.Error, OSError) as exc:
                log.warning("change listener: connection lost (%s); reconnecting in %.0f s", exc, self.retry)
            finally:
                self.listening = False
                await connection.close()
            await asyncio.sleep(self.retry)

    async def _apply(self) -> None:
        while True:
            await self._stale.wait()
            self._stale.clear()
            try:
                await self.on_change()
            except Exception:  # the store may be briefly unreachable: the next notification or the periodic refresh retries
                log.exception("change listener: refresh failed")


class ChangeProbe:
    """The newest committed change id, read on a dedicated connection straight from the event loop: one
    round trip, no store thread, no ORM session — what a fence (`StoreSync.catch_up`) needs to learn
    that the cache is already current, which is nearly always."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self._connection: psycopg.AsyncConnection | None = None

    async def newest(self) -> int:
        """max(change.id) as of now (0 for an empty feed); raises psycopg.Error/OSError when the database is unreachable."""
        try:
            if self._connection is None or self._connection.closed:
                self._connection = await pg_conn.connect(self.db_url, "cariflex-vtn-probe")
            cursor = await self._connection.execute("SELECT coalesce(max(id), 0) FROM change")
            row = await cursor.fetchone()
        except (psycopg.Error, OSError):
            await self.close()
            raise
        return int(row[0]) if row else 0

    async def close(self) -> None:
        """Close the connection (reopened on the next call)."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            await connection.close()
