"""Runs store functions on one dedicated thread, so the event loop never blocks on the database
and writes are serialised (SQLite allows one writer; PostgreSQL does not mind)."""

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from time import perf_counter
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import sessionmaker

from vtn.store import Conflict, StoreDown
from vtn.store.database import make_engine, session_scope

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

    def __init__(self, url: str, origin: str = "cli", timed: Callable[[str, float], None] | None = None) -> None:
        self.origin = origin
        #: told each call's function name and duration in seconds (the VTN process's metrics); None: not timed
        self.timed = timed
        self.engine: Engine = make_engine(url)
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
        """Run `fn(tx, *args, **kwargs)` in its own transaction and return its result (a unique-key race raises Conflict)."""
        loop = asyncio.get_running_loop()
        if self.timed is None:
            return await loop.run_in_executor(self._executor, self._run, fn, args, kwargs)
        start = perf_counter()
        try:
            return await loop.run_in_executor(self._executor, self._run, fn, args, kwargs)
        finally:
            self.timed(getattr(fn, "__name__", "call"), perf_counter() - start)

    def call_sync(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """The same, from synchronous code (start-up, CLI)."""
        return self._run(fn, args, kwargs)

    def close(self) -> None:
        """Finish pending work and release connections."""
        self._executor.shutdown(wait=True)
        self.engine.dispose()
