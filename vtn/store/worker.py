"""Runs store functions on one dedicated thread, so the event loop never blocks on the database
and writes are serialised (SQLite allows one writer; PostgreSQL does not mind)."""

import asyncio
import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from time import perf_counter
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import sessionmaker

from vtn.store import Conflict, StoreDown
from vtn.store.database import StoreTimeouts, make_engine, session_scope

T = TypeVar("T")


def is_outage(exc: Exception) -> bool:
    """Whether `exc` says the store did not answer (retry later) rather than that a statement is wrong (a defect)."""
    if isinstance(exc, PoolTimeout):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if not isinstance(exc, OperationalError):
        return False
    # SQLite calls a missing table an OperationalError too: only a busy database is an outage there
    module = type(exc.orig).__module__
    return module.startswith("psycopg") or "database is locked" in str(exc.orig)


class StoreWorker:
    """Executes `fn(session, *args)` in a transaction on the store thread."""

    def __init__(
        self,
        url: str,
        origin: str = "cli",
        timed: Callable[[str, float], None] | None = None,
        timeouts: StoreTimeouts | None = None,
    ) -> None:
        self.origin = origin
        #: told each call's function name and duration in seconds (the VTN process's metrics); None: not timed
        self.timed = timed
        #: None: wait as long as the driver does (the CLI, migrations)
        self.timeouts = timeouts
        self.engine: Engine = make_engine(url, timeouts)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vtn-store")

    def _run(self, fn: Callable[..., T], args: tuple[object, ...], kwargs: dict[str, object]) -> T:
        try:
            with session_scope(self.sessions) as session:
                session.info["origin"] = self.origin
                return fn(session, *args, **kwargs)
        except IntegrityError as exc:
            raise Conflict(f"{getattr(fn, '__name__', 'store call')}: {exc.orig}") from exc
        except (DBAPIError, PoolTimeout) as exc:
            if is_outage(exc):
                raise StoreDown(f"{getattr(fn, '__name__', 'store call')}: {exc}") from exc
            raise

    async def call(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """Run `fn(tx, *args, **kwargs)` in its own transaction and return its result (a unique-key race raises Conflict;
        a store that does not answer, or not within the timeouts' call budget, StoreDown)."""
        if self.timed is None:
            return await self._call(fn, args, kwargs)
        start = perf_counter()
        try:
            return await self._call(fn, args, kwargs)
        finally:
            self.timed(getattr(fn, "__name__", "call"), perf_counter() - start)

    async def _call(self, fn: Callable[..., T], args: tuple[object, ...], kwargs: dict[str, object]) -> T:
        loop = asyncio.get_running_loop()
        if self.timeouts is None:
            return await loop.run_in_executor(self._executor, self._run, fn, args, kwargs)
        budget = self.timeouts.call_budget.total_seconds()
        try:
            # a server that takes the connection and never answers holds the store thread: the caller stops
            # waiting (a call still queued behind it is dropped, one already running ends when the driver gives up)
            async with asyncio.timeout(budget):
                return await loop.run_in_executor(self._executor, self._run, fn, args, kwargs)
        except TimeoutError:
            raise StoreDown(f"{getattr(fn, '__name__', 'store call')}: no answer within {budget:g} s") from None

    def call_sync(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """The same, from synchronous code (start-up, CLI)."""
        return self._run(fn, args, kwargs)

    def close(self) -> None:
        """Finish pending work and release connections. With timeouts, pending work gets one call budget: a store
        that never answers must not hold a stopping VTN for ever (the call stuck on it is abandoned)."""
        if self.timeouts is None:
            self._executor.shutdown(wait=True)
        else:
            last = self._executor.submit(lambda: None)  # done once everything queued before it is
            with contextlib.suppress(FutureTimeout):
                last.result(timeout=self.timeouts.call_budget.total_seconds())
            self._executor.shutdown(wait=False, cancel_futures=True)
        self.engine.dispose()
