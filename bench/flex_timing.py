"""Timestamps for bench/flex_bench.py: FlexMeasuresHooks subclassed to time each site's application,
its flexmeasures-client calls wrapped (attributed to the site through a context variable), and the
RQ job timestamps (enqueued, started, ended) read from FlexMeasures' Redis.

Every time is ``time.monotonic()``; RQ's wall-clock timestamps are converted with one offset taken
at import (same machine, same clock).
"""

from __future__ import annotations

import contextvars
import functools
import json
import os
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flexmeasures_client import FlexMeasuresClient

from mapping.oadr import model as m
from ven.config import SiteConfig
from ven.flexmeasures.hooks import FlexMeasuresHooks, ScheduleOutcome

#: wall clock minus monotonic clock: converts RQ's UTC timestamps to this process's monotonic time
WALL_OFFSET = time.time() - time.monotonic()
CURRENT_SITE: contextvars.ContextVar[str | None] = contextvars.ContextVar("flex_bench_site", default=None)


@dataclass
class SiteTiming:
    """One site's way from the event's creation to its schedule being read back (monotonic seconds)."""

    site: str
    kind: str
    created: float | None = None  # create_event returned
    on_event: float | None = None  # the VEN handed the polled event to the hooks
    apply_start: float | None = None  # FlexMeasuresHooks._apply began (site lock held)
    posts: list[tuple[float, float]] = field(default_factory=list)  # post_sensor_data (start, end), in order
    trigger: tuple[float, float] | None = None  # POST .../schedules/trigger
    job_id: str | None = None
    job_wait_end: float | None = None  # wait_for_job returned (the client saw the job finished)
    status_polls: int = 0  # job-status lookups the client made
    get_schedule: tuple[float, float] | None = None
    ready: float | None = None  # _schedule returned: outcome recorded (or None for a PV site)
    apply_end: float | None = None  # _apply returned (after posting aggregate-consumption)
    confirmed: float | None = None  # the bench read the event's limit back from dso-import-limit
    confirm_note: str = ""
    rq: dict[str, float | None] = field(default_factory=dict)  # enqueued / started / ended (monotonic)
    scheduled: bool = False  # a schedule was read back (False for PV sites: nothing flexible)
    job_failed: str | None = None
    retries: int = 0

    @property
    def total(self) -> float | None:
        """Seconds from create_event returning to the schedule (or, for PV, the limits) being in place."""
        return None if self.ready is None or self.created is None else self.ready - self.created


class TimedHooks(FlexMeasuresHooks):
    """FlexMeasuresHooks that note when each step of a round's application happens."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timings: dict[str, SiteTiming] = {}
        _instrument(self.client, self._timing_of_current)

    def begin_round(self, sites: list[SiteConfig]) -> None:
        """Start timing these sites (call before creating the event; stamp `created` after)."""
        self.timings = {s.name: SiteTiming(s.name, str(s.asset.get("kind", "?"))) for s in sites}

    def stamp_created(self, at: float) -> None:
        """Record when create_event returned for this round."""
        for timing in self.timings.values():
            timing.created = at

    def _timing_of_current(self) -> SiteTiming | None:
        name = CURRENT_SITE.get()
        return self.timings.get(name) if name else None

    async def on_event(self, site: SiteConfig, event: m.Event, opt_type: str) -> None:
        """Note when the polled event reached the hooks, then apply as usual."""
        timing = self.timings.get(site.name)
        if timing is not None and timing.on_event is None:
            timing.on_event = time.monotonic()
        await super().on_event(site, event, opt_type)

    async def _apply(self, site: SiteConfig) -> ScheduleOutcome | None:
        timing = self.timings.get(site.name)
        if timing is None or timing.ready is not None:
            return await super()._apply(site)
        if timing.apply_start is None:
            timing.apply_start = time.monotonic()
        else:  # a background retry after FlexMeasures failed
            timing.retries += 1
        token = CURRENT_SITE.set(site.name)
        try:
            return await super()._apply(site)
        finally:
            CURRENT_SITE.reset(token)
            timing.apply_end = time.monotonic()

    async def _schedule(self, site: SiteConfig, *args: Any) -> ScheduleOutcome | None:
        outcome = await super()._schedule(site, *args)
        timing = self._timing_of_current()
        if timing is not None and timing.ready is None:
            timing.ready = time.monotonic()
            timing.scheduled = outcome is not None and bool(outcome.schedule_kw)
            timing.job_failed = outcome.job_failed if outcome is not None else None
        return outcome


def _instrument(client: FlexMeasuresClient, current: Callable[[], SiteTiming | None]) -> None:
    """Wrap the client's calls (instance attributes shadow the methods, also for its internal calls)."""

    def wrap(name: str, record: Callable[[SiteTiming, float, float, Any], None]) -> None:
        original: Callable[..., Awaitable[Any]] = getattr(client, name)

        @functools.wraps(original)
        async def timed(*args: Any, **kwargs: Any) -> Any:
            timing, start = current(), time.monotonic()
            result = await original(*args, **kwargs)
            if timing is not None:
                record(timing, start, time.monotonic(), result)
            return result

        setattr(client, name, timed)

    def trigger(t: SiteTiming, a: float, b: float, job: Any) -> None:
        t.trigger, t.job_id = (a, b), str(job)

    def waited(t: SiteTiming, a: float, b: float, _: Any) -> None:
        t.job_wait_end = b

    def polled(t: SiteTiming, a: float, b: float, _: Any) -> None:
        t.status_polls += 1

    def schedule(t: SiteTiming, a: float, b: float, _: Any) -> None:
        t.get_schedule = (t.get_schedule[0] if t.get_schedule else a, b)

    wrap("post_sensor_data", lambda t, a, b, _: t.posts.append((a, b)))
    wrap("trigger_schedule", trigger)
    wrap("wait_for_job", waited)
    wrap("get_job_status", polled)
    wrap("get_schedule", schedule)


_RQ_LOOKUP = """
import json, os, sys
from datetime import datetime
import redis
conf, ids = json.load(sys.stdin)
password = os.environ.get("CARIFLEX_FM_REDIS_PASSWORD") or None
r = redis.Redis(host=conf["host"], port=conf["port"], db=conf["db"], password=password)
def epoch(v):
    return datetime.fromisoformat(v.decode().replace("Z", "+00:00")).timestamp() if v else None
out = {}
for i in ids:
    enq, start, end, status = r.hmget(f"rq:job:{i}", "enqueued_at", "started_at", "ended_at", "status")
    out[i] = {"enqueued": epoch(enq), "started": epoch(start), "ended": epoch(end), "status": status.decode() if status else None}
print(json.dumps(out))
"""


def read_rq_times(run_dir: Path, timings: list[SiteTiming], venv: Path) -> str | None:
    """Fill each timing's `rq` from the job hashes in FlexMeasures' Redis; an error text when that fails."""
    ids = [t.job_id for t in timings if t.job_id]
    if not ids:
        return None
    try:
        conf = json.loads((run_dir / "state.json").read_text())["redis"]
        proc = subprocess.run(
            [str(venv / "bin" / "python"), "-c", _RQ_LOOKUP],
            input=json.dumps([conf, ids]),
            capture_output=True,
            text=True,
            timeout=30,
            env=os.environ.copy(),
        )
        if proc.returncode != 0:
            return proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"
        jobs = json.loads(proc.stdout)
    except (OSError, KeyError, ValueError, subprocess.SubprocessError) as exc:
        return str(exc)
    for t in timings:
        job = jobs.get(t.job_id or "")
        if job:
            t.rq = {k: (job[k] - WALL_OFFSET if job[k] is not None else None) for k in ("enqueued", "started", "ended")}
    return None


def cpu_seconds(run_dir: Path) -> dict[str, float]:
    """CPU seconds (user + system, with reaped children: the RQ work-horses) used so far by the
    FlexMeasures server and worker, and by this process (VTN + VENs)."""
    ticks = os.sysconf("SC_CLK_TCK")
    out = {"bench (VTN + VENs)": sum(os.times()[:2])}
    try:
        pids = json.loads((run_dir / "state.json").read_text())["pids"]
    except (OSError, KeyError, ValueError):
        return out
    for name in ("server", "worker"):
        try:
            fields = Path(f"/proc/{pids[name]}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, KeyError, IndexError):
            continue
        out[f"FlexMeasures {name}"] = sum(int(f) for f in fields[11:15]) / ticks  # utime stime cutime cstime
    return out
