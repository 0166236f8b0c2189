"""Measured phases of the report benchmark, with an account of the values each VTN kept.

Every phase sends bodies that no earlier phase sent (each body carries a fresh
dtstart for its VEN), so a VTN has to store ``3 x answered`` new values per phase.
The store is counted before and after each phase, once it has stopped growing.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import loadgen
import oadr_bodies
import registration
import report_bodies

UPDATE_MARKERS = ["oadrUpdatedReport", "responseCode>200<"]
VALUES_PER_REPORT = len(report_bodies.USAGE_RIDS)
Counter = Callable[[], int]
CpuClock = Callable[[], float | None]


@dataclass
class Ledger:
    """Values sent in one phase vs values the VTN kept."""

    target: str
    case: str
    bodies: int
    sent: int
    answered_ok: int
    stored: int
    maybe_resent: int = 0
    vtn_cpu_pct: float | None = None

    @property
    def sent_values(self) -> int:
        """Values in the reports put on the wire (wrk: answered; requests still in flight at its end are not counted)."""
        return VALUES_PER_REPORT * self.sent

    @property
    def expected(self) -> int:
        """Values in the reports the VTN acknowledged with oadrUpdatedReport 200."""
        return VALUES_PER_REPORT * self.answered_ok

    @property
    def missing(self) -> int:
        """Acknowledged values that were not kept (should be 0)."""
        return max(0, self.expected - self.stored)

    @property
    def extra(self) -> int:
        """Kept values beyond the acknowledged ones (requests in flight when a client stopped)."""
        return max(0, self.stored - self.expected)


def settle(counter: Counter, timeout: float = 30.0, quiet: float = 1.0) -> int:
    """Return the counter once it did not change for ``quiet`` seconds (or after ``timeout``)."""
    deadline = time.monotonic() + timeout
    last = counter()
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = counter()
        if now == last:
            return now
        last = now
    return last


class PhaseRunner:
    """Builds fresh bodies per phase and runs them against one target's EiReport URL."""

    def __init__(
        self,
        name: str,
        url: str,
        subs: list[report_bodies.Subscription],
        counter: Counter,
        workdir: Path,
        shape: str,
        cpu: CpuClock,
    ) -> None:
        self.name = name
        self.url = url
        self.subs = subs
        self.counter = counter
        self.workdir = workdir
        self.shape = shape
        self.cpu = cpu
        self.next_step = 0
        self.ledgers: list[Ledger] = []

    def bodies(self, case: str, count: int) -> tuple[Path, int]:
        """Write ``count`` fresh bodies to a file; return (path, count)."""
        started = time.monotonic()
        bodies, self.next_step = report_bodies.update_bodies(self.subs, self.next_step, count, self.shape)
        slug = case.replace(" ", "-").replace("/", "")
        path = oadr_bodies.write_bodies(self.workdir / f"{self.name}-{slug}.txt", bodies)
        print(f"  {self.name}: {case}: {count} fresh bodies built in {time.monotonic() - started:.1f}s", flush=True)
        return path, count

    def ingest_check(self) -> str | None:
        """Send one fresh report; None if it was answered with 200 and all its values were kept, else why not."""
        bodies, self.next_step = report_bodies.update_bodies(self.subs[:1], self.next_step, 1, self.shape)
        before = settle(self.counter, quiet=0.2)
        status, payload = registration.post(self.url, bodies[0])
        kind, code = oadr_bodies.message_type(payload), oadr_bodies.response_code(payload)
        after = settle(self.counter, quiet=0.2)
        if status != 200 or kind != "oadrUpdatedReport" or code != 200:
            text = " ".join(payload.decode(errors="replace").split())[:400] or "(empty body)"
            return f"HTTP {status}, message {kind}, responseCode {code}: {text}"
        if after - before != VALUES_PER_REPORT:
            return f"answered OK but kept {after - before} of {VALUES_PER_REPORT} values"
        return None

    def _run(self, load: Callable[[], loadgen.Measurement]) -> tuple[loadgen.Measurement, float | None]:
        """Run ``load``; also return the VTN's CPU use meanwhile, in % of one core."""
        cpu_before, started = self.cpu(), time.monotonic()
        m = load()
        cpu_after, wall = self.cpu(), time.monotonic() - started
        if cpu_before is None or cpu_after is None:
            return m, None
        return m, 100 * (cpu_after - cpu_before) / wall

    def _account(self, case: str, bodies: int, m: loadgen.Measurement, before: int, resent: int, cpu: float | None) -> None:
        stored = settle(self.counter) - before
        ok = m.requests - m.non_2xx - m.unexpected
        sent = m.detail["sent"] - m.detail["dropped"] if "dropped" in m.detail else m.requests
        ledger = Ledger(self.name, case, bodies, sent, ok, stored, resent, cpu)
        self.ledgers.append(ledger)
        print(
            f"  {self.name}: {case}: {ledger.sent_values} values sent, {ledger.expected} acknowledged, {stored} kept "
            f"(missing {ledger.missing}, extra {ledger.extra}, maybe re-sent bodies {resent}), "
            f"VTN CPU {cpu or 0:.0f}% of a core",
            flush=True,
        )

    def wrk(self, case: str, settings: loadgen.LoadSettings, duration: float, rate_guess: float) -> loadgen.Measurement:
        """Closed-loop wrk phase with enough bodies for ``rate_guess`` req/s (plus headroom)."""
        count = math.ceil(max(2 * rate_guess, rate_guess + 500) * (duration + 1)) + 2 * settings.connections
        path, count = self.bodies(case, count)
        before = settle(self.counter)
        try:
            m, cpu = self._run(lambda: loadgen.run_wrk(self.url, path, UPDATE_MARKERS, settings, duration))
        finally:
            path.unlink(missing_ok=True)
        resent = max(0, m.requests + settings.connections - count)
        if resent:
            print(f"  {self.name}: {case}: wrk may have wrapped around its {count} bodies", flush=True)
        self._account(case, count, m, before, resent, cpu)
        return m

    def fixed(self, case: str, settings: loadgen.LoadSettings) -> loadgen.Measurement:
        """Open-loop phase at ``settings.rate`` with exactly one fresh body per scheduled request."""
        path, count = self.bodies(case, max(1, int(settings.rate * settings.duration)))
        before = settle(self.counter)
        try:
            m, cpu = self._run(lambda: loadgen.run_fixed_rate(self.url, path, UPDATE_MARKERS, settings))
        finally:
            path.unlink(missing_ok=True)
        self._account(case, count, m, before, 0, cpu)
        return m
