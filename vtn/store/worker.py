"""Runs store functions on one dedicated thread, so the event loop never blocks on the database
and writes are serialised (SQLite allows one writer; PostgreSQL does not mind)."""

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from vtn.store.database import make_engine, session_scope

T = TypeVar("T")


class StoreWorker:
    """Executes `fn(session, *args)` in a transaction on the store thread."""

    def __init__(self, url: str, origin: str = "cli") -> None:
        self.origin = origin
        self.engine: Engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vtn-store")

    def _run(self, fn: Callable[..., T], args: tuple[object, ...], kwargs: dict[str, object]) -> T:
        with session_scope(self.sessions) as session:
            session.info["origin"] = self.origin
            return fn(session, *args, **kwargs)

    async def call(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """Run `fn(session, *args, **kwargs)` in its own transaction and return its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._run, fn, args, kwargs)

    def call_sync(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """The same, from synchronous code (start-up, CLI)."""
        return self._run(fn, args, kwargs)

    def close(self) -> None:
        """Finish pending work and release connections."""
        self._executor.shutdown(wait=True)
        self.engine.dispose()
