"""Achieved curtailment per event, per VEN and in total, as the VTN holds it.

Read from the VENs' x-ACHIEVED_CURTAILMENT reports (baseline, measured per 15-minute interval) and
the event itself (what was requested: `mapping.curtailment.requested`). kW throughout, consumption
positive, a reduction positive; None where nothing was reported — never a guess.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from mapping.curtailment import Flag, Measured, event_slots
from mapping.curtailment import report as wire
from mapping.curtailment.achieved import Achieved, achieved
from mapping.curtailment.baseline import Baseline
from mapping.curtailment.requested import requested_by_slot
from mapping.flex.combine import RESOLUTION, Segment
from mapping.oadr import model as m
from mapping.oadr.lifecycle import event_end
from vtn.store import curtailment_repository as curtailed
from vtn.store.repository import load_event


@dataclass(frozen=True)
class CurtailmentInterval:
    """One event interval: what was asked and what the site(s) did."""

    start: datetime
    end: datetime
    requested_kw: float | None
    baseline_kw: float | None
    measured_kw: float | None
    achieved_kw: float | None
    quality: str  # "good", "missing", or the data-quality flags joined by "+" (e.g. "estimated+partial")


@dataclass(frozen=True)
class SiteCurtailment:
    """One VEN's intervals for the event and its achieved/requested ratio (energy over the intervals with both)."""

    ven_id: str
    ven_name: str
    intervals: tuple[CurtailmentInterval, ...]
    ratio: float | None


@dataclass(frozen=True)
class EventCurtailment:
    """Every VEN's intervals for one event, and the sum over VENs per interval."""

    event_id: str
    total: tuple[CurtailmentInterval, ...]
    sites: tuple[SiteCurtailment, ...]
    ratio: float | None


class UnknownEvent(LookupError):
    """No event with that id."""


def _quality(flags: frozenset[Flag]) -> str:
    flags = flags - {Flag.NOTHING_REQUESTED}
    if Flag.MISSING in flags:
        return "missing"
    return "+".join(sorted(f.value for f in flags)) or "good"


def _ratio(items: list[Achieved]) -> float | None:
    """Achieved over requested, on the intervals that have both; None when nothing was requested there."""
    both = [(i.achieved_kw, i.requested_kw) for i in items if i.achieved_kw is not None and i.requested_kw is not None]
    requested = math.fsum(q for _, q in both)
    return math.fsum(a for a, _ in both) / requested if both and requested > 0 else None


def _achieved(
    event: m.Event, slots: tuple[datetime, ...], points: list[curtailed.Point], contracted_kw: float | None
) -> tuple[Achieved, ...]:
    reported = {(r_id, at): (value, quality) for r_id, at, value, quality in points}

    def value(r_id: str, slot: datetime) -> tuple[float | None, frozenset[Flag]]:
        found, quality = reported.get((r_id, slot), (None, wire.NO_VALUE))
        return (found, wire.flags_of(quality)) if found is not None else (None, frozenset({Flag.MISSING}))

    baselines = [Baseline(slot, *value(wire.BASELINE, slot)) for slot in slots]
    measured = []
    for slot in slots:
        kw, flags = value(wire.MEASURED, slot)
        measured.append(Measured(slot, kw, 0, 0.0 if kw is None else 1.0, flags))
    requested = requested_by_slot(event, {b.start: b.kw for b in baselines}, contracted_kw)
    segments = [Segment(slot, slot + RESOLUTION, kw) for slot, kw in requested.items() if kw is not None]
    return achieved(baselines, measured, requested=segments)


def _interval(item: Achieved) -> CurtailmentInterval:
    return CurtailmentInterval(
        item.start, item.end, item.requested_kw, item.baseline_kw, item.measured_kw, item.achieved_kw, _quality(item.flags)
    )


def _sum(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return math.fsum(known) if known else None


def _total(slot: datetime, items: list[Achieved]) -> CurtailmentInterval:
    """The sum over sites; a sum that lacks some sites is flagged partial, one that lacks all is missing."""
    flags = frozenset(f for i in items for f in i.flags)
    if Flag.MISSING in flags and any(i.achieved_kw is not None for i in items):
        flags = (flags - {Flag.MISSING}) | {Flag.PARTIAL}
    return CurtailmentInterval(
        slot,
        slot + RESOLUTION,
        _sum([i.requested_kw for i in items]),
        _sum([i.baseline_kw for i in items]),
        _sum([i.measured_kw for i in items]),
        _sum([i.achieved_kw for i in items]),
        _quality(flags),
    )


def event_curtailment(
    session: Session, event_id: str, ven_id: str | None = None, contracts: Mapping[str, float] | None = None
) -> EventCurtailment:
    """What the VTN holds for an event (one VEN's share only when `ven_id` is given); empty until reports arrive.

    `contracts` (oadrVenName → contracted kW, `vtn.site_registry`) lets SIMPLE levels and capacity
    shares have a requested value."""
    found = load_event(session, event_id)
    if found is None:
        raise UnknownEvent(f"no event {event_id}")
    event = found[0].event
    end = event_end(event.dtstart, event.duration)
    requests = [(v, rr) for v, rr in curtailed.requests_for_event(session, event_id) if ven_id is None or v == ven_id]
    if end is None or not requests:
        return EventCurtailment(event_id=event_id, total=(), sites=(), ratio=None)
    slots = event_slots(event.dtstart, end)
    points = curtailed.points_of(session, [rr for _, rr in requests])
    names = curtailed.ven_names(session, [v for v, _ in requests])
    contracts = contracts or {}
    per_site = {v: _achieved(event, slots, points.get(rr, []), contracts.get(names.get(v, v))) for v, rr in requests}
    sites = tuple(
        SiteCurtailment(v, names.get(v, v), tuple(_interval(i) for i in items), _ratio(items)) for v, items in per_site.items()
    )
    total = tuple(_total(slot, [items[n] for items in per_site.values()]) for n, slot in enumerate(slots))
    return EventCurtailment(event_id, total, sites, _ratio([i for items in per_site.values() for i in items]))


def ven_curtailment(session: Session, ven_id: str, contracts: Mapping[str, float] | None = None) -> list[EventCurtailment]:
    """A VEN's curtailment for every event it was asked about, newest first."""
    return [event_curtailment(session, event_id, ven_id, contracts) for event_id in curtailed.events_for_ven(session, ven_id)]


def as_json(found: EventCurtailment) -> dict[str, Any]:
    """The JSON form (times in UTC ISO 8601)."""

    def interval(i: CurtailmentInterval) -> dict[str, Any]:
        return {
            "start": i.start.isoformat().replace("+00:00", "Z"),
            "end": i.end.isoformat().replace("+00:00", "Z"),
            "requested_kw": i.requested_kw,
            "baseline_kw": i.baseline_kw,
            "measured_kw": i.measured_kw,
            "achieved_kw": i.achieved_kw,
            "quality": i.quality,
        }

    return {
        "event_id": found.event_id,
        "ratio": found.ratio,
        "total": [interval(i) for i in found.total],
        "sites": [
            {"ven_id": s.ven_id, "ven_name": s.ven_name, "ratio": s.ratio, "intervals": [interval(i) for i in s.intervals]}
            for s in found.sites
        ],
    }


CSV_COLUMNS = ("event_id", "ven_id", "ven_name", "start", "end")
CSV_COLUMNS += ("requested_kw", "baseline_kw", "measured_kw", "achieved_kw", "quality")


def as_rows(found: EventCurtailment) -> list[tuple[Any, ...]]:
    """CSV rows (CSV_COLUMNS): each VEN's intervals, then the totals with ven_id `*`; empty cells for no value."""
    rows: list[tuple[Any, ...]] = []
    blocks = [(s.ven_id, s.ven_name, s.intervals) for s in found.sites] + [("*", "total", found.total)]
    for ven_id, name, intervals in blocks:
        for i in intervals:
            values = ("" if v is None else round(v, 6) for v in (i.requested_kw, i.baseline_kw, i.measured_kw, i.achieved_kw))
            rows.append((found.event_id, ven_id, name, i.start.isoformat(), i.end.isoformat(), *values, i.quality))
    return rows
