"""One leader among the VTN processes sharing a store: the process that runs the leader-only jobs
(status reconciles, the curtailment request job, and whatever else must happen once, not once per process).

On PostgreSQL the leader is whoever holds a session-level advisory lock on a dedicated connection.
The others try again every `retry`; when the leader dies its connection closes, PostgreSQL frees the
lock and the next try of another process wins: take-over within `retry` plus the time the server takes
to notice (immediate for a killed process on a live host; about 11 s for a lost host, by the keepalives
vtn/cluster/pg_conn.py sets on both sides of the leader's connection).
The leader checks its connection every `retry` too and steps down when the check fails, so a leader cut
off from the database stops its jobs. Writes of leader-only jobs are also made safe against two
simultaneous leaders by the store itself (row locks, unique keys): the lock decides who works, the store
guarantees that the work is done once.

On SQLite (one process by design) the process leads from the start.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import psycopg
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from vtn.cluster import pg_conn
from vtn.store import database

log = logging.getLogger("cariflex.vtn.leadership")

#: the advisory lock key every VTN process of one database competes for ("CFXLEAD" in ASCII)
LOCK_KEY = 0x43465843_4C454144 & 0x7FFFFFFFFFFFFFFF

Callback = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class LeaderJob:
    """A periodic job that only the leader runs."""

    job_id: str
    run: Callback
    every: timedelta


class Leadership:
    """Elects this process leader or not, and starts/stops the leader-only jobs accordingly."""

    def __init__(self, scheduler: AsyncIOScheduler, db_url: str, retry: timedelta) -> None:
        self.scheduler = scheduler
        self.db_url = db_url
        self.retry = retry.total_seconds()
        self.jobs: list[LeaderJob] = []
        self._on_gain: list[Callback] = []
        self._on_lose: list[Callback] = []
        self._leader = False
        #: monotonic time of the last change of role (for operators and tests)
        self.since = time.monotonic()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def is_leader(self) -> bool:
        """True while this process runs the leader-only jobs."""
        return self._leader

    def add_job(self, job: LeaderJob) -> None:
        """Run `job` every `job.every` while (and only while) this process leads."""
        self.jobs.append(job)
        if self._leader:
            self._schedule(job)

    def on_gain(self, callback: Callback) -> None:
        """Await `callback` each time this process becomes leader (e.g. catch up, then reconcile)."""
        self._on_gain.append(callback)

    def on_lose(self, callback: Callback) -> None:
        """Await `callback` each time this process stops leading."""
        self._on_lose.append(callback)

    async def start(self) -> None:
        """Lead at once (SQLite), or make a first attempt at the lock (so that a lone process leads as soon
        as it has started) and go on competing in the background (PostgreSQL)."""
        if not database.is_postgresql(self.db_url):
            await self._gain()
            return
        connection = await self._open()
        self._task = asyncio.create_task(self._campaign(connection), name="leadership")

    async def stop(self) -> None:
        """Stop the jobs and give the lock up (closing its connection): another process takes over at its next try."""
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        await self._lose()

    # --- internals --------------------------------------------------------------------------

    async def _open(self) -> psycopg.AsyncConnection | None:
        """A new lock connection after one attempt at the lock; None when the database cannot be reached."""
        try:
            connection = await pg_conn.connect(self.db_url, "cariflex-vtn-leader")
        except (psycopg.Error, OSError) as exc:
            log.warning("leader election: cannot connect (%s); retrying in %.0f s", exc, self.retry)
            return None
        try:
            await self._attempt(connection)
        except (psycopg.Error, OSError, TimeoutError) as exc:
            log.warning("leader election: connection lost (%s)", exc)
            await self._lose()
            await connection.close()
            return None
        except BaseException:  # cancelled: never leave a connection (maybe holding the lock) behind
            await connection.close()
            raise
        return connection

    async def _campaign(self, connection: psycopg.AsyncConnection | None) -> None:
        """Every `retry`: try for the lock, or check that the connection holding it lives; reconnect when it fails."""
        while True:
            if connection is not None:
                try:
                    while True:
                        await asyncio.sleep(self.retry)
                        await self._attempt(connection)
                except (psycopg.Error, OSError, TimeoutError) as exc:
                    log.warning("leader election: connection lost (%s)", exc)
                finally:
                    await self._lose()
                    await connection.close()
            await asyncio.sleep(self.retry)
            connection = await self._open()

    async def _attempt(self, connection: psycopg.AsyncConnection) -> None:
        """Try for the lock (and lead when it is ours), or, when leading, check that the connection (hence the lock) lives."""
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow the cancellation that stops us
        async with asyncio.timeout(self.retry):
            if self._leader:
                await connection.execute("SELECT 1")
                return
            cursor = await connection.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,))
            row = await cursor.fetchone()
        if row is not None and row[0]:
            await self._gain()

    async def _gain(self) -> None:
        if self._leader:
            return
        self._leader = True
        self.since = time.monotonic()
        log.info("this process is now the lifecycle leader")
        for callback in self._on_gain:
            try:
                await callback()
            except Exception:  # a failed catch-up must not stop the jobs: they retry on their own schedule
                log.exception("leader start-up callback failed")
        for job in self.jobs:
            self._schedule(job)

    async def _lose(self) -> None:
        if not self._leader:
            return
        self._leader = False
        self.since = time.monotonic()
        if self._stopping:  # an orderly stop, not a lost lock: nothing for an operator to look into
            log.info("stopping: this process gives up the lifecycle leadership")
        else:
            log.warning("this process is no longer the lifecycle leader")
        for job in self.jobs:
            try:
                self.scheduler.remove_job(job.job_id)
            except JobLookupError:
                pass
        for callback in self._on_lose:
            try:
                await callback()
            except Exception:
                log.exception("leader stop callback failed")

    def _schedule(self, job: LeaderJob) -> None:
        self.scheduler.add_job(
            job.run,
            "interval",
            seconds=job.every.total_seconds(),
            id=job.job_id,
            max_instances=1,
            coalesce=True,
            replace_existing=True,
        )
