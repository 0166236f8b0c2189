"""Everything one site VEN works with, handed to its parts (agent, events, reports)."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from observability.tally import Tally
from ven.config import SiteConfig, VenConfig
from ven.hooks import EventHooks, TelemetrySource
from ven.store import Registration, VenStore
from ven.transport import VtnLink


def utc_now() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)


def new_request_id() -> str:
    """A fresh requestID."""
    return f"req-{uuid.uuid4().hex[:16]}"


@dataclass
class Site:
    """One site's VEN: configuration, local store, VTN link, scheduler, application hooks, telemetry."""

    config: SiteConfig
    ven: VenConfig
    store: VenStore
    link: VtnLink
    scheduler: AsyncIOScheduler
    hooks: EventHooks
    source: TelemetrySource
    clock: Callable[[], datetime] = utc_now
    registration: Registration | None = None
    #: the process's metric counts (shared by its sites; labelled by site)
    tally: Tally = field(default_factory=Tally)
    #: push mode: this site VEN's oadrTransportAddress (None: it polls)
    push_address: str | None = None
    #: (site name, slot) → the site's planned net power in kW for that quarter hour, None where no plan counts for
    #: it (ven/dispatch_tracking.py); None: this process keeps no plans (no FlexMeasures)
    planned_kw: Callable[[str, datetime], float | None] | None = None

    @property
    def name(self) -> str:
        """The site's name (also the prefix of its scheduler jobs)."""
        return self.config.name

    def poll_interval(self) -> float:
        """Seconds between polls: the VTN's requested poll frequency, else the configured default."""
        reg = self.registration
        if reg is not None and reg.poll_freq_s:
            return max(reg.poll_freq_s, 0.2)
        return self.ven.default_poll_interval.total_seconds()

    @property
    def ven_id(self) -> str:
        """The venID the VTN gave (empty before registration)."""
        return self.registration.ven_id if self.registration else ""
