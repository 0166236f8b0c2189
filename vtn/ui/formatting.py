"""How events and times read on the pages and in the CSV export (pure)."""

from datetime import datetime
from typing import Any

from mapping.oadr import model as m
from mapping.oadr.lifecycle import event_end
from mapping.oadr.timefmt import format_duration


def ts(moment: datetime | None) -> str:
    """A UTC time to the second, or a dash."""
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "—"


def unit(item: m.ItemUnit | None) -> str:
    """' kW' for units W at scale k; '' for a unit-less signal."""
    if item is None or not item.units:
        return ""
    prefix = "" if item.scale in ("none", "") else item.scale
    return f" {prefix}{item.units}"


def signals(event: m.Event) -> str:
    """'SIMPLE/level 1, 2, 3' per signal."""
    return "; ".join(f"{s.name}/{s.type} {', '.join(f'{i.value:g}' for i in s.intervals)}" + unit(s.unit) for s in event.signals)


def window(event: m.Event) -> str:
    """'2026-11-26 22:00 → 23:00 (PT1H)'."""
    end = event_end(event.dtstart, event.duration)
    until = "open-ended" if end is None else (end.strftime("%H:%M") if end.date() == event.dtstart.date() else ts(end)[:16])
    return f"{event.dtstart:%Y-%m-%d %H:%M} → {until} ({format_duration(event.duration)})"


def targets(event: m.Event) -> str:
    """'ven: a, b; group: north' or 'all VENs'."""
    t = event.target
    parts = [
        f"{label}: {', '.join(values)}"
        for label, values in (("ven", t.ven_ids), ("group", t.group_ids), ("resource", t.resource_ids), ("party", t.party_ids))
        if values
    ]
    return "; ".join(parts) or "all VENs"


HELPERS: dict[str, Any] = {"ts": ts, "signals": signals, "window": window, "targets": targets}
