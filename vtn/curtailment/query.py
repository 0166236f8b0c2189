"""Achieved curtailment per event, per VEN and in total, as the VTN holds it.

Read from the VENs' x-ACHIEVED_CURTAILMENT reports (baseline, measured per 15-minute interval) and
the event itself (what was requested: `mapping.curtailment.requested`). kW throughout, consumption
positive, a reduction positive; None where nothing was reported — never a guess.

Each site and the total carry a delivery verdict (`mapping.curtailment.performance`: under, met, over,
export, nothing asked, no data) over the intervals that count. A site is asked nothing before the
event exists: in the interval the event was created in, the requested reduction is scaled by the
share that followed its creation and the interval is flagged `before_notice`; intervals that ended
before it are flagged too, and left out of the ratio and the verdict (`counted` False).
"""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mapping.curtailment import Flag, Measured, event_slots
from mapping.curtailment import report as wire
from mapping.curtailment.achieved import Achieved, achieved
from mapping.curtailment import Baseline
from mapping.curtailment.performance import Delivery, IntervalFigures, Verdict, notice_shares, verdict
from mapping.curtailment.requested import requested_by_slot
from mapping.grid import QUARTER, Segment
from mapping.oadr import model as m
from mapping.oadr.lifecycle import event_end
from vtn.store import Tx
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
    quality: str  # "good", "missing", or the data-quality flags joined by "+" (e.g. "before_notice+estimated")
    #: False: the interval ended before the event was created (shown, but out of the ratio and the verdict)
    counted: bool = True


#: the verdict of a site or total with nothing to judge
NO_VERDICT = Verdict(Delivery.NO_DATA, None)


@dataclass(frozen=True)
class SiteCurtailment:
    """One VEN's intervals for the event, its achieved/requested ratio (energy over the counted intervals with
    both) and its delivery verdict."""

    ven_id: str
    ven_name: str
    intervals: tuple[CurtailmentInterval, ...]
    ratio: float | None
    delivery: Verdict = NO_VERDICT


@dataclass(frozen=True)
class EventCurtailment:
    """Every VEN's intervals for one event, and the sum over VENs per interval."""

    event_id: str
    total: tuple[CurtailmentInterval, ...]
    sites: tuple[SiteCurtailment, ...]
    ratio: float | None
    #: over every site's counted intervals
    delivery: Verdict = NO_VERDICT


class UnknownEvent(LookupError):
    """No event with that id."""


def _quality(flags: frozenset[Flag]) -> str:
    flags = flags - {Flag.NOTHING_REQUESTED}
    if Flag.MISSING in flags:
        return "missing"
    return "+".join(sorted(f.value for f in flags)) or "good"


def _verdict(intervals: Iterable[CurtailmentInterval]) -> Verdict:
    """The delivery verdict over the counted intervals."""
    return verdict(IntervalFigures(i.requested_kw, i.achieved_kw, i.measured_kw) for i in intervals if i.counted)


def _achieved(
    event: m.Event,
    slots: tuple[datetime, ...],
    shares: tuple[float, ...],
    points: list[curtailed.Point],
    contracted_kw: float | None,
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
    noticed = dict(zip(slots, shares, strict=True))
    segments = [Segment(slot, slot + QUARTER, kw * noticed[slot]) for slot, kw in requested.items() if kw is not None]
    return achieved(baselines, measured, requested=segments)


def _notice_flags(flags: frozenset[Flag], share: float) -> frozenset[Flag]:
    return flags | {Flag.BEFORE_NOTICE} if share < 1.0 else flags


def _interval(item: Achieved, share: float) -> CurtailmentInterval:
    return CurtailmentInterval(
        item.start,
        item.end,
        item.requested_kw,
        item.baseline_kw,
        item.measured_kw,
        item.achieved_kw,
        _quality(_notice_flags(item.flags, share)),
        counted=share > 0.0,
    )


def _sum(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return math.fsum(known) if known else None


def _total(slot: datetime, share: float, items: list[Achieved]) -> CurtailmentInterval:
    """The sum over sites; a sum that lacks some sites is flagged partial, one that lacks all is missing."""
    flags = frozenset(f for i in items for f in i.flags)
    if Flag.MISSING in flags and any(i.achieved_kw is not None for i in items):
        flags = (flags - {Flag.MISSING}) | {Flag.PARTIAL}
    return CurtailmentInterval(
        slot,
        slot + QUARTER,
        _sum([i.requested_kw for i in items]),
        _sum([i.baseline_kw for i in items]),
        _sum([i.measured_kw for i in items]),
        _sum([i.achieved_kw for i in items]),
        _quality(_notice_flags(flags, share)),
        counted=share > 0.0,
    )


def event_curtailment(
    session: Tx, event_id: str, ven_id: str | None = None, contracts: Mapping[str, float] | None = None
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
    shares = notice_shares(slots, event.created, end)
    points = curtailed.points_of(session, [rr for _, rr in requests])
    names = curtailed.ven_names(session, [v for v, _ in requests])
    contracts = contracts or {}
    per_site = {v: _achieved(event, slots, shares, points.get(rr, []), contracts.get(names.get(v, v))) for v, rr in requests}
    sites = []
    for v, items in per_site.items():
        intervals = tuple(_interval(i, share) for i, share in zip(items, shares, strict=True))
        delivery = _verdict(intervals)
        sites.append(SiteCurtailment(v, names.get(v, v), intervals, delivery.ratio, delivery))
    total = tuple(_total(slot, shares[n], [items[n] for items in per_site.values()]) for n, slot in enumerate(slots))
    delivery = _verdict(i for site in sites for i in site.intervals)
    return EventCurtailment(event_id, total, tuple(sites), delivery.ratio, delivery)


def ven_curtailment(session: Tx, ven_id: str, contracts: Mapping[str, float] | None = None) -> list[EventCurtailment]:
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
            "counted": i.counted,
        }

    return {
        "event_id": found.event_id,
        "ratio": found.ratio,
        "delivery": found.delivery.delivery.value,
        "total": [interval(i) for i in found.total],
        "sites": [
            {
                "ven_id": s.ven_id,
                "ven_name": s.ven_name,
                "ratio": s.ratio,
                "delivery": s.delivery.delivery.value,
                "intervals": [interval(i) for i in s.intervals],
            }
            for s in found.sites
        ],
    }


CSV_COLUMNS = ("event_id", "ven_id", "ven_name", "start", "end")
CSV_COLUMNS += ("requested_kw", "baseline_kw", "measured_kw", "achieved_kw", "quality")
CSV_COLUMNS += ("counted", "delivery", "ratio")  # the last two: the site's (or the total's), on each of its rows


def as_rows(found: EventCurtailment) -> list[tuple[Any, ...]]:
    """CSV rows (CSV_COLUMNS): each VEN's intervals, then the totals with ven_id `*`; empty cells for no value."""
    rows: list[tuple[Any, ...]] = []
    blocks = [(s.ven_id, s.ven_name, s.intervals, s.delivery) for s in found.sites]
    blocks.append(("*", "total", found.total, found.delivery))
    for ven_id, name, intervals, delivery in blocks:
        ratio = "" if delivery.ratio is None else round(delivery.ratio, 6)
        for i in intervals:
            values = ("" if v is None else round(v, 6) for v in (i.requested_kw, i.baseline_kw, i.measured_kw, i.achieved_kw))
            times = (i.start.isoformat(), i.end.isoformat())
            counted = "true" if i.counted else "false"
            rows.append((found.event_id, ven_id, name, *times, *values, i.quality, counted, delivery.delivery.value, ratio))
    return rows
