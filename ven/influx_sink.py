"""The VEN's optional telemetry sink: every meter reading the MQTT intake accepts, written to InfluxDB 1.x.

`POST <url>/write?db=<database>&precision=ms` with line protocol (mapping/line_protocol.py), one point per reading:

    cariflex_readings,asset=meter,quantity=power,site=site-07,unit=kW value=2.4 1795975200000

tags `site`, `asset`, `quantity` from the reading's topic `cariflex/<site>/<asset>/<quantity>`, `unit` the unit the
VEN keeps it in (kW, %, kWh, bool: W are already converted), field `value`, the time its `ts` says.

Batched: a write goes as soon as `batch_size` points wait, else `flush_interval` after the previous one. Never in the
way of telemetry: `add` only appends to a bounded buffer; past `max_buffer` points the oldest is dropped, counted
and logged (WARNING, at most once a minute). A write that fails — InfluxDB unreachable, an HTTP 5xx, the credentials
refused (401/403), the database missing (404) — keeps its points and is tried again after an exponential back-off
with jitter (mapping/backoff.py: from `flush_interval`, doubling per failure, capped by `max_backoff`); each failure is
logged saying what to check. A batch InfluxDB refuses as malformed (HTTP 400, e.g. a field type conflict) is dropped
whole, logged with InfluxDB's message: sending it again would be refused again.
"""

import asyncio
import base64
import logging
import random
from collections import Counter, deque
from collections.abc import Callable

import aiohttp

from mapping.backoff import backoff_delay
from mapping.line_protocol import Point, format_point
from mapping.refusal import Refused
from ven.influx_config import InfluxSettings
from ven.telemetry_mqtt import UNITS, RateLimitedLog, Sample

log = logging.getLogger("cariflex.ven.influxdb")

#: the /write precision: a device's timestamps are rarely finer, and InfluxDB compresses coarser times better
PRECISION = "ms"
#: quantity → the unit the VEN keeps it in (the one whose conversion factor is 1)
STORED_UNITS = {quantity: next(unit for unit, factor in units.items() if factor == 1.0) for quantity, units in UNITS.items()}
#: why a write attempt failed (its points counted at each failed attempt); all but `rejected` are tried again
FAIL_REASONS = ("unreachable", "server_error", "unauthorized", "database_not_found", "rejected")
#: why points were lost: the buffer was full, InfluxDB refused their batch (400), a value line protocol cannot carry
DROP_REASONS = ("buffer_full", "rejected", "unwritable")


class WriteFailed(Exception):
    """A write InfluxDB did not take: `reason` (one of FAIL_REASONS), whether to `retry`, and what to check."""

    def __init__(self, reason: str, detail: str, retry: bool) -> None:
        super().__init__(detail)
        self.reason = reason
        self.retry = retry


def reading_point(measurement: str, topic: str, sample: Sample) -> Point:
    """The point of one validated reading: its tags from its topic `cariflex/<site>/<asset>/<quantity>`."""
    _root, site, asset, quantity = topic.split("/")
    tags = {"site": site, "asset": asset, "quantity": quantity, "unit": STORED_UNITS[quantity]}
    return Point(measurement, tags, {"value": sample.value}, sample.at)


def _refusal(status: int, message: str, settings: InfluxSettings, points: int) -> WriteFailed:
    """What an HTTP answer other than 204 means, and what the operator should do about it."""
    where = f"InfluxDB at {settings.url}"
    said = f"HTTP {status}: {message}" if message else f"HTTP {status}"
    if status in (401, 403):
        who = f"user {settings.username!r}" if settings.username else "none are set"
        return WriteFailed(
            "unauthorized",
            f"{where} refused the credentials ({said}): check [influxdb] username and password in ven.toml "
            f"({who}) and that the user may write to database {settings.database!r}",
            retry=True,
        )
    if status == 404:
        return WriteFailed(
            "database_not_found",
            f"{where} has no database {settings.database!r} ({said}): create it (CREATE DATABASE "
            f'"{settings.database}") or correct [influxdb] database in ven.toml',
            retry=True,
        )
    if status == 400 or status == 413:
        return WriteFailed(
            "rejected",
            f"{where} refused a batch ({points} points) as malformed ({said}): it is dropped, as sending it again "
            "would be refused again" + (" (lower [influxdb] batch_size)" if status == 413 else ""),
            retry=False,
        )
    return WriteFailed("server_error", f"{where} failed the write ({said})", retry=True)


class InfluxSink:
    """Buffers points and writes them in batches; `start()` runs the writer, `stop()` tries what is left once."""

    def __init__(self, settings: InfluxSettings, draw: Callable[[float, float], float] = random.uniform) -> None:
        self.settings = settings
        #: points InfluxDB took
        self.written = 0
        #: points of failed write attempts, by reason (a point tried three times in vain counts three times)
        self.failed: Counter[str] = Counter()
        #: points lost, by reason (DROP_REASONS)
        self.dropped: Counter[str] = Counter()
        #: failed attempts since the last write InfluxDB took
        self.failures_in_a_row = 0
        self._draw = draw
        self._buffer: deque[str] = deque()
        self._in_flight: list[str] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._session: aiohttp.ClientSession | None = None
        self._drops = RateLimitedLog(logger=log, what="InfluxDB points dropped")

    @property
    def buffered(self) -> int:
        """Points waiting to be written (a write under way included)."""
        return len(self._buffer) + len(self._in_flight)

    def add_reading(self, topic: str, sample: Sample) -> None:
        """One reading the MQTT intake accepted (its `on_reading`)."""
        self.add(reading_point(self.settings.measurement, topic, sample))

    def add(self, point: Point) -> None:
        """Queue one point; never blocks nor raises: a full buffer drops its oldest point, counted and logged."""
        try:
            line = format_point(point, PRECISION)
        except Refused as exc:
            self.dropped["unwritable"] += 1
            self._drops.warn("unwritable", f"{exc}: the point is not written")
            return
        if len(self._buffer) >= self.settings.max_buffer:
            self._buffer.popleft()
            self._drop_oldest(1)
        self._buffer.append(line)
        if len(self._buffer) >= self.settings.batch_size:
            self._wake.set()

    def _drop_oldest(self, count: int) -> None:
        self.dropped["buffer_full"] += count
        why = (
            f"InfluxDB at {self.settings.url} has failed {self.failures_in_a_row} writes in a row (the lines above say why)"
            if self.failures_in_a_row
            else "readings arrive faster than they are written: raise [influxdb] batch_size or max_buffer"
        )
        self._drops.warn(
            "buffer_full",
            f"the buffer holds max_buffer = {self.settings.max_buffer} points: the oldest is dropped "
            f"({self.dropped['buffer_full']} so far); {why}",
        )

    async def start(self) -> None:
        """Open the HTTP session and start writing in the background."""
        if self._task is None:
            self._session = aiohttp.ClientSession()
            self._task = asyncio.create_task(self._run(), name="influxdb-sink")

    async def stop(self) -> None:
        """Stop the writer, try once to write what is left (logging what could not be), close the session."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._session is None:
            return
        while self._buffer:
            try:
                await self._send_batch()
            except WriteFailed as exc:
                if exc.retry:
                    log.warning("InfluxDB sink stopped, %d buffered points not written: %s", self.buffered, exc)
                    break
                log.error("%s", exc)  # that batch is dropped; the next ones may go through
        await self._session.close()
        self._session = None

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self.settings.flush_interval.total_seconds())
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                await self._drain()
            except Exception:  # a defect of ours: logged, and the writer goes on rather than dying silently
                log.exception("InfluxDB sink: unexpected error while writing; %d buffered, trying again", self.buffered)

    async def _drain(self) -> None:
        """Write everything buffered, batch by batch; after a failure wait out the back-off (readings keep being
        buffered meanwhile) and try again."""
        while self._buffer:
            try:
                await self._send_batch()
            except WriteFailed as exc:
                if not exc.retry:
                    log.error("%s", exc)
                    continue
                self.failures_in_a_row += 1
                delay = backoff_delay(
                    self.failures_in_a_row,
                    self.settings.flush_interval.total_seconds(),
                    self.settings.max_backoff.total_seconds(),
                    self._draw,
                )
                level = logging.WARNING if exc.reason in ("unreachable", "server_error") else logging.ERROR
                log.log(level, "%s; %d buffered, next attempt in %.1f s", exc, self.buffered, delay)
                await asyncio.sleep(delay)
                continue
            if self.failures_in_a_row:
                log.info(
                    "InfluxDB at %s takes writes again after %d failed attempts; %d buffered still to write",
                    self.settings.url,
                    self.failures_in_a_row,
                    self.buffered,
                )
                self.failures_in_a_row = 0

    async def _send_batch(self) -> None:
        """Write the oldest `batch_size` points; on a failure put them back (or drop them, if refused as malformed)."""
        count = min(self.settings.batch_size, len(self._buffer))
        batch = self._in_flight = [self._buffer.popleft() for _ in range(count)]
        try:
            await self._post("".join(line + "\n" for line in batch).encode(), len(batch))
        except WriteFailed as exc:
            self.failed[exc.reason] += len(batch)
            if exc.retry:
                self._requeue(batch)
            else:
                self.dropped["rejected"] += len(batch)
            raise
        except BaseException:  # stopping in the middle of a write (stop() tries it again), or a defect: kept
            self._requeue(batch)
            raise
        finally:
            self._in_flight = []
        self.written += len(batch)

    def _requeue(self, batch: list[str]) -> None:
        """Put a batch back in front, then bring the buffer back within max_buffer by dropping the oldest."""
        self._buffer.extendleft(reversed(batch))
        excess = len(self._buffer) - self.settings.max_buffer
        if excess > 0:
            for _ in range(excess):
                self._buffer.popleft()
            self._drop_oldest(excess)

    async def _post(self, body: bytes, points: int) -> None:
        settings = self.settings
        assert self._session is not None, "start() the sink first"
        headers = {"Authorization": _basic_auth(settings.username, settings.password)} if settings.username else {}
        timeout = aiohttp.ClientTimeout(total=settings.timeout.total_seconds())
        params = {"db": settings.database, "precision": PRECISION}
        try:
            async with self._session.post(
                f"{settings.url}/write", params=params, data=body, headers=headers, timeout=timeout
            ) as response:
                if response.status == 204:
                    return
                message = await _error_message(response)
        except (aiohttp.ClientError, TimeoutError) as exc:
            what = str(exc) or type(exc).__name__
            raise WriteFailed("unreachable", f"cannot reach InfluxDB at {settings.url} ({what})", retry=True) from None
        raise _refusal(response.status, message, settings, points)


def _basic_auth(username: str, password: str | None) -> str:
    """HTTP Basic credentials, which InfluxDB 1.x takes as well as u=/p= (kept out of URLs, which get logged)."""
    return "Basic " + base64.b64encode(f"{username}:{password or ''}".encode()).decode()


async def _error_message(response: aiohttp.ClientResponse) -> str:
    """InfluxDB's own words: the `error` of its JSON answer, else the start of the body."""
    text = (await response.text(errors="replace"))[:500]
    try:
        body = await response.json(content_type=None)
    except ValueError:
        return text.strip()
    return str(body.get("error", text)).strip() if isinstance(body, dict) else text.strip()
