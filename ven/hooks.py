"""Where the application plugs into a site VEN: event lifecycle callbacks and telemetry."""

import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from mapping.curtailment import Sample
from mapping.flex.unmet import Window
from mapping.oadr import model as m
from mapping.oadr import report_model as r
from ven.config import SiteConfig

log = logging.getLogger("cariflex.ven.hooks")


#: (site, {event id: windows it cannot honour; () for the whole event}, why) → tell the VTN per the site's policy
UnmetCallback = Callable[[SiteConfig, dict[str, tuple[Window, ...]], str], Awaitable[None]]


@runtime_checkable
class SaysWhatIsUnmet(Protocol):
    """Hooks that find events the site cannot honour (FlexMeasuresHooks) and tell `on_unmet`, which the VEN
    process sets."""

    on_unmet: UnmetCallback | None


class EventHooks(Protocol):
    """Called by the VEN as events arrive and run. Calls may repeat after a restart ("resumed"):
    implementations must be idempotent."""

    async def on_event(self, site: SiteConfig, event: m.Event, opt_type: str) -> None:
        """A new or modified event (after the opt decision)."""

    async def on_start(self, site: SiteConfig, event: m.Event, resumed: bool) -> None:
        """The event starts (dtstart plus the random start offset)."""

    async def on_interval(self, site: SiteConfig, event: m.Event, index: int) -> None:
        """Interval `index` of the event starts."""

    async def on_end(self, site: SiteConfig, event: m.Event) -> None:
        """The event ends."""

    async def on_cancel(self, site: SiteConfig, event: m.Event, implicit: bool) -> None:
        """The event was cancelled (explicitly, or implicitly by vanishing from the VTN's list)."""


class LoggingHooks:
    """The default hooks: say what happens."""

    async def on_event(self, site: SiteConfig, event: m.Event, opt_type: str) -> None:
        """Log."""
        log.info("%s: event %s mod %s (%s) → %s", site.name, event.event_id, event.modification_number, event.status, opt_type)

    async def on_start(self, site: SiteConfig, event: m.Event, resumed: bool) -> None:
        """Log."""
        log.info("%s: event %s %s", site.name, event.event_id, "resumed" if resumed else "started")

    async def on_interval(self, site: SiteConfig, event: m.Event, index: int) -> None:
        """Log."""
        values = ", ".join(f"{s.name}={s.intervals[index].value:g}" for s in event.signals if index < len(s.intervals))
        log.info("%s: event %s interval %d: %s", site.name, event.event_id, index, values)

    async def on_end(self, site: SiteConfig, event: m.Event) -> None:
        """Log."""
        log.info("%s: event %s ended", site.name, event.event_id)

    async def on_cancel(self, site: SiteConfig, event: m.Event, implicit: bool) -> None:
        """Log."""
        log.info("%s: event %s cancelled%s", site.name, event.event_id, " (implicitly)" if implicit else "")


class TelemetrySource(Protocol):
    """Where report values come from (MQTT and FlexMeasures sources plug in here)."""

    def reading(self, site: SiteConfig, r_id: str, at: datetime) -> float | None:
        """The value of `r_id` at `at` (kW for power), or None when there is none."""

    def status(self, site: SiteConfig, at: datetime) -> r.ResourceStatus:
        """The site's resource status."""

    def samples(self, site: SiteConfig, r_id: str, start: datetime, end: datetime) -> list[Sample]:
        """Every sample of `r_id` in [start, end) (kW for power), in time order; gaps stay gaps."""


def resource_status(source: TelemetrySource, site: SiteConfig, at: datetime) -> r.ResourceStatus:
    """TELEMETRY_STATUS from readings: online while the meter reports, manual override as the device
    or meter says, and the storage's state of charge (%) as the load-control capacity (0–100)."""
    online = source.reading(site, "site-power", at) is not None
    override = any(source.reading(site, r_id, at) for r_id in ("asset-override", "site-override"))
    soc = source.reading(site, "asset-soc", at)
    load_control = {"capacity": {"min": 0.0, "max": 100.0, "current": soc}} if soc is not None else {}
    return r.ResourceStatus(online=online, manual_override=override, load_control=load_control)


class ConfiguredSource:
    """A source for tests and try-outs: the site's configured base load, assets idle, online."""

    def reading(self, site: SiteConfig, r_id: str, at: datetime) -> float | None:
        """Base load for the site meter, 0 for the asset's power; no state of charge (a schedule must not start
        from an invented one: it starts half full, docs/flexmeasures.md)."""
        if r_id.endswith("site-power"):
            return site.base_load_kw
        return None if r_id == "asset-soc" else 0.0

    def status(self, site: SiteConfig, at: datetime) -> r.ResourceStatus:
        """Online, no manual override."""
        return r.ResourceStatus(online=True, manual_override=False)

    def samples(self, site: SiteConfig, r_id: str, start: datetime, end: datetime) -> list[Sample]:
        """The configured reading once a minute (a meter that never moves)."""
        minute = timedelta(minutes=1)
        first = start.replace(second=0, microsecond=0)
        first += minute if first < start else timedelta(0)
        moments = (first + i * minute for i in range(max(0, math.ceil((end - first) / minute))))
        return [Sample(at, value) for at in moments if (value := self.reading(site, r_id, at)) is not None]


class SiteRoutedSource:
    """Each site's readings from its own source (MQTT for most, FlexMeasures for some), else `fallback`."""

    def __init__(self, by_site: Mapping[str, TelemetrySource], fallback: TelemetrySource) -> None:
        self.by_site = by_site
        self.fallback = fallback

    def _for(self, site: SiteConfig) -> TelemetrySource:
        return self.by_site.get(site.name, self.fallback)

    def reading(self, site: SiteConfig, r_id: str, at: datetime) -> float | None:
        """From the site's source."""
        return self._for(site).reading(site, r_id, at)

    def status(self, site: SiteConfig, at: datetime) -> r.ResourceStatus:
        """From the site's source."""
        return self._for(site).status(site, at)

    def samples(self, site: SiteConfig, r_id: str, start: datetime, end: datetime) -> list[Sample]:
        """From the site's source."""
        return self._for(site).samples(site, r_id, start, end)
