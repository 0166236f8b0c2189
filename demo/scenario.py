"""When the demo's evening-peak alert falls and what it says. Pure.

Without `--fast` the alert is EDF SEI's real evening peak: 18:00–22:00 local (Martinique) today,
or tomorrow once today's has begun. With `--fast F` the four hours are compressed F times into whole
15-minute intervals (the settlement interval: achieved curtailment is measured per quarter hour, so
no event can be shorter) and placed now — in the current quarter hour when at least `min_left` of it
remains, else the next — and the site simulator's scenario clock is moved so that the event starts
at 18:00 scenario time (the households' evening peak, EVs plugged in after work).
"""

import math
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from demo.world import MARTINIQUE
from mapping.grid import QUARTER, floor_slot

EVENING_START = time(18, 0)
EVENING = timedelta(hours=4)


@dataclass(frozen=True)
class DemoPlan:
    """The event window (UTC), the simulator's scenario offset and the alert the grid operator sends."""

    start: datetime
    end: datetime
    scenario_offset: timedelta
    level: str

    def alert(self) -> dict[str, Any]:
        """The EDF SEI alert as POSTed to /dso/signals/sei-peak (local times, mapping/dso/sei_peak.py)."""
        local_start, local_end = self.start.astimezone(MARTINIQUE), self.end.astimezone(MARTINIQUE)
        return {
            "alert_id": f"cariflex-demo-{local_start:%Y%m%dT%H%M}",
            "date": local_start.date().isoformat(),
            "start": f"{local_start:%H:%M}",
            "end": f"{local_end:%H:%M}",
            "level": self.level,
        }

    def window(self, now: datetime) -> str:
        """The event window in Martinique time and UTC, and how long until it starts (the demo waits that long
        without --fast), e.g. "18:00–22:00 Martinique (22:00–02:00 UTC), starts in 5 h 12 min"."""
        local_start, local_end = self.start.astimezone(MARTINIQUE), self.end.astimezone(MARTINIQUE)
        utc_start, utc_end = self.start.astimezone(UTC), self.end.astimezone(UTC)
        text = f"{local_start:%H:%M}–{local_end:%H:%M} Martinique ({utc_start:%H:%M}–{utc_end:%H:%M} UTC)"
        if local_start.date() != now.astimezone(MARTINIQUE).date():
            text = f"{local_start:%a %d %b} " + text
        left = self.start - now
        if left <= timedelta(0):
            return text + ", under way"
        minutes = math.ceil(left / timedelta(minutes=1))
        return text + f", starts in {minutes // 60} h {minutes % 60:02} min"


def compressed_duration(factor: int) -> timedelta:
    """The evening's four hours divided by `factor`, rounded up to whole quarter hours (at least one)."""
    if factor < 1:
        raise ValueError(f"--fast factor must be 1 or more, not {factor}")
    quarters = max(1, math.ceil(EVENING / factor / QUARTER))
    return quarters * QUARTER


def plan(now: datetime, fast: int | None, level: str = "RED", min_left: timedelta = timedelta(minutes=5)) -> DemoPlan:
    """The demo's event: the real evening peak (fast None) or the compressed one placed now."""
    if fast is None:
        local = now.astimezone(MARTINIQUE)
        start = datetime.combine(local.date(), EVENING_START, MARTINIQUE)
        if local >= start:
            start += timedelta(days=1)
        return DemoPlan(
            start=start.astimezone(now.tzinfo),
            end=(start + EVENING).astimezone(now.tzinfo),
            scenario_offset=timedelta(0),
            level=level,
        )
    start = floor_slot(now)
    if start + QUARTER - now < min_left:
        start += QUARTER
    local_start = start.astimezone(MARTINIQUE)
    evening = datetime.combine(local_start.date(), EVENING_START, MARTINIQUE)
    return DemoPlan(start=start, end=start + compressed_duration(fast), scenario_offset=evening - local_start, level=level)


def ven_time_zone(scenario_offset: timedelta) -> str:
    """The `[flex] time_zone` under which the VENs' wall clock reads the scenario's local time: Martinique's
    UTC−4 moved by the scenario's offset (none: Martinique itself), as UTC±HH:MM."""
    if not scenario_offset:
        return "America/Martinique"
    minutes = round((timedelta(hours=-4) + scenario_offset) / timedelta(minutes=1))
    sign = "-" if minutes < 0 else "+"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
