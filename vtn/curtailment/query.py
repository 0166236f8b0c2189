"""Achieved curtailment per event, per VEN and in total, as the VTN computes it: the VTN settles.

Each site's baseline is the program's named method run by the VTN on the meter data it holds
(`vtn.curtailment.figures`: an imported load curve, else the VEN's TELEMETRY_USAGE); measured comes
from the same data, requested from the event and that baseline (`mapping.curtailment.requested`). The
baseline a VEN reports in its x-ACHIEVED_CURTAILMENT is kept beside as its claim, and so is the site's planned
net power it reports (what its plan asked, to read beside measured). kW throughout,
consumption positive, a reduction positive; None where there are no data — never a guess. A site's
figures are final once its measured data cover `final_coverage_percent` of the event; provisional before.

Each site and the total carry a delivery verdict (`mapping.curtailment.performance`: under, met, over,
export, nothing asked, no data) over the intervals that count. A site is asked nothing before the
event exists: in the interval the event was created in, the requested reduction is scaled by the
share that followed its creation and the interval is flagged `before_notice`; intervals that ended
before it are flagged too, and left out of the ratio and the verdict (`counted` False).
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from mapping.curtailment import Baseline, BaselineConfig, Flag, describe, event_slots
from mapping.curtailment import report as wire
from mapping.curtailment.achieved import Achieved
from mapping.curtailment.calendar import local_day
from mapping.curtailment.performance import Delivery, IntervalFigures, Verdict, notice_shares, verdict
from mapping.grid import QUARTER, floor_slot
from mapping.oadr import model as m
from mapping.oadr.lifecycle import event_end
from vtn.curtailment.figures import Claim, SiteRef, control_series, site_figures
from vtn.curtailment.settings import Settlement
from vtn.store import Tx
from vtn.store import curtailment_repository as curtailed
from vtn.store.repository import load_event, load_vens


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
    #: the baseline the site's VEN reported (its claim, compared, never used)
    ven_baseline_kw: float | None = None
    #: the VTN's baseline before its day-of adjustment (None: the method adjusts nothing)
    unadjusted_baseline_kw: float | None = None
    #: the site's planned net power its VEN reported (`curtailment-planned`; the total: the sum over the sites, only
    #: when every site measured in the interval reported one — a partial sum beside the whole measured misleads)
    #: that reported one); None where it reported none
    planned_kw: float | None = None


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
    #: the meter data the VTN computed from ("meter file <delivery point>", "TELEMETRY_USAGE"); none: no data
    sources: tuple[str, ...] = ()
    #: the share of the event's intervals with a measured value
    coverage: float = 0.0
    #: final once coverage reaches the program's threshold (`final_coverage_percent`); provisional before
    final: bool = False
    #: why the VTN could not compute a baseline (e.g. counterfactual: it holds no site's plan)
    refusal: str | None = None


@dataclass(frozen=True)
class EventCurtailment:
    """Every VEN's intervals for one event, and the sum over VENs per interval."""

    event_id: str
    total: tuple[CurtailmentInterval, ...]
    sites: tuple[SiteCurtailment, ...]
    ratio: float | None
    #: over every site's counted intervals
    delivery: Verdict = NO_VERDICT
    #: the baseline method, in words (`mapping.curtailment.describe`)
    method: str = ""


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


def _claims(points: list[curtailed.Point]) -> dict[str, dict[datetime, Claim]]:
    """What the VEN reported per rID and interval start (its claim), with the flags it gave each value."""
    found: dict[str, dict[datetime, Claim]] = {}
    for r_id, at, value, quality in points:
        if value is not None and wire.has_value(quality):
            found.setdefault(r_id, {})[at] = Claim(value, wire.flags_of(quality))
    return found


def _notice_flags(flags: frozenset[Flag], share: float) -> frozenset[Flag]:
    return flags | {Flag.BEFORE_NOTICE} if share < 1.0 else flags


def _interval(
    item: Achieved, share: float, baseline: Baseline, claimed: float | None, planned: float | None = None
) -> CurtailmentInterval:
    return CurtailmentInterval(
        item.start,
        item.end,
        item.requested_kw,
        item.baseline_kw,
        item.measured_kw,
        item.achieved_kw,
        _quality(_notice_flags(item.flags, share)),
        counted=share > 0.0,
        ven_baseline_kw=claimed,
        unadjusted_baseline_kw=baseline.unadjusted_kw,
        planned_kw=planned,
    )


def _sum(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return math.fsum(known) if known else None


def _total(slot: datetime, share: float, items: list[Achieved], planned: list[float | None]) -> CurtailmentInterval:
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
        planned_kw=_planned_total(items, planned),
    )


def _planned_total(items: list[Achieved], planned: list[float | None]) -> float | None:
    """The sites' planned net power summed, when every site measured in the interval has a plan; else None."""
    complete = all(kw is not None for item, kw in zip(items, planned, strict=True) if item.measured_kw is not None)
    return _sum(planned) if complete else None


def _claimed_kw(claims: dict[str, dict[datetime, Claim]], r_id: str, at: datetime) -> float | None:
    found = claims.get(r_id, {}).get(at)
    return found.kw if found is not None else None


def event_curtailment(
    session: Tx, event_id: str, ven_id: str | None = None, settlement: Settlement | None = None
) -> EventCurtailment:
    """The event's curtailment as the VTN computes it (one VEN's share only when `ven_id` is given).

    Sites: the VENs the event was delivered to or asked about. Each site's baseline is the program's method
    (`settlement.config`) on the meter data the VTN holds (`vtn.curtailment.meter_data`); the VEN's reported
    baseline is shown beside as its claim."""
    found = load_event(session, event_id)
    if found is None:
        raise UnknownEvent(f"no event {event_id}")
    event = found[0].event
    settlement = settlement or Settlement()
    method = settlement.config.method_for(event.market_context)
    end = event_end(event.dtstart, event.duration)
    requests = dict(curtailed.requests_for_event(session, event_id))
    ven_ids = sorted(set(requests) | set(curtailed.delivered_vens(session, event_id)))
    ven_ids = [v for v in ven_ids if ven_id is None or v == ven_id]
    if end is None or not ven_ids:
        return EventCurtailment(event_id=event_id, total=(), sites=(), ratio=None, method=describe(method))
    slots = event_slots(event.dtstart, end)
    shares = notice_shares(slots, event.created, end)
    points = curtailed.points_of(session, list(requests.values()))
    known = _sites(session, settlement)
    excluded = _earlier_event_days(session, event, method)
    controls = control_series(session, event, slots, method, known, set(ven_ids))
    figures, claims = {}, {}
    for v in ven_ids:
        site = known.get(v) or SiteRef(v, v, settlement.delivery_point(v), None)
        claims[v] = _claims(points.get(requests.get(v, ""), []))
        figures[v] = site_figures(session, event, slots, shares, site, method, excluded, controls, claims[v])
    sites = []
    for v, found_figures in figures.items():
        intervals = tuple(
            _interval(
                item,
                share,
                baseline,
                _claimed_kw(claims[v], wire.BASELINE, item.start),
                _claimed_kw(claims[v], wire.PLANNED, item.start),
            )
            for item, share, baseline in zip(found_figures.achieved, shares, found_figures.baselines, strict=True)
        )
        delivery = _verdict(intervals)
        final = found_figures.coverage >= settlement.config.final_coverage and not any(
            item.flags & {Flag.CLAIMED, Flag.INSUFFICIENT_HISTORY} for item in found_figures.achieved
        )
        name = known[v].ven_name if v in known else v
        sites.append(
            SiteCurtailment(
                v,
                name,
                intervals,
                delivery.ratio,
                delivery,
                found_figures.sources,
                found_figures.coverage,
                final,
                found_figures.refusal,
            )
        )
    per_site = [f.achieved for f in figures.values()]
    planned = [[i.planned_kw for i in site.intervals] for site in sites]
    total = tuple(
        _total(slot, shares[n], [items[n] for items in per_site], [values[n] for values in planned])
        for n, slot in enumerate(slots)
    )
    delivery = _verdict(i for site in sites for i in site.intervals)
    return EventCurtailment(event_id, total, tuple(sites), delivery.ratio, delivery, describe(method))


def _sites(session: Tx, settlement: Settlement) -> dict[str, SiteRef]:
    """Every registered VEN as a site: venID → its name, delivery point and contracted kW."""
    return {
        v.ven_id: SiteRef(
            v.ven_id,
            v.ven_name or v.ven_id,
            settlement.delivery_point(v.ven_name or v.ven_id),
            settlement.contracts.get(v.ven_name or ""),
        )
        for v in load_vens(session)
    }


def _earlier_event_days(session: Tx, event: m.Event, method: BaselineConfig) -> set[date]:
    """The days of the program's earlier events within the method's look-back: an x-of-y baseline passes over them."""
    since = event.dtstart - timedelta(days=method.lookback_days + 1)
    starts = curtailed.program_event_starts(session, event.market_context, since, floor_slot(event.dtstart))
    return {
        local_day(start, method.holidays)
        for start in starts
        if local_day(start, method.holidays) != local_day(event.dtstart, method.holidays)
    }


def ven_curtailment(session: Tx, ven_id: str, settlement: Settlement | None = None) -> list[EventCurtailment]:
    """A VEN's curtailment for every event it was asked about, newest first."""
    return [event_curtailment(session, event_id, ven_id, settlement) for event_id in curtailed.events_for_ven(session, ven_id)]


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
            "ven_baseline_kw": i.ven_baseline_kw,
            "unadjusted_baseline_kw": i.unadjusted_baseline_kw,
            "planned_kw": i.planned_kw,
        }

    return {
        "event_id": found.event_id,
        "method": found.method,
        "ratio": found.ratio,
        "delivery": found.delivery.delivery.value,
        "total": [interval(i) for i in found.total],
        "sites": [
            {
                "ven_id": s.ven_id,
                "ven_name": s.ven_name,
                "ratio": s.ratio,
                "delivery": s.delivery.delivery.value,
                "sources": list(s.sources),
                "coverage": s.coverage,
                "final": s.final,
                "refusal": s.refusal,
                "intervals": [interval(i) for i in s.intervals],
            }
            for s in found.sites
        ],
    }


CSV_COLUMNS = ("event_id", "ven_id", "ven_name", "start", "end")
CSV_COLUMNS += ("requested_kw", "baseline_kw", "measured_kw", "achieved_kw", "quality")
CSV_COLUMNS += ("counted", "delivery", "ratio")  # the last two: the site's (or the total's), on each of its rows
CSV_COLUMNS += ("ven_baseline_kw", "coverage", "final", "method")  # the VEN's claim; the site's coverage and state; the method


def as_rows(found: EventCurtailment) -> list[tuple[Any, ...]]:
    """CSV rows (CSV_COLUMNS): each VEN's intervals, then the totals with ven_id `*`; empty cells for no value."""
    rows: list[tuple[Any, ...]] = []
    blocks = [(s.ven_id, s.ven_name, s.intervals, s.delivery, round(s.coverage, 6), str(s.final).lower()) for s in found.sites]
    blocks.append(("*", "total", found.total, found.delivery, "", str(all(s.final for s in found.sites)).lower()))
    for ven_id, name, intervals, delivery, coverage, final in blocks:
        ratio = "" if delivery.ratio is None else round(delivery.ratio, 6)
        for i in intervals:
            values = ("" if v is None else round(v, 6) for v in (i.requested_kw, i.baseline_kw, i.measured_kw, i.achieved_kw))
            times = (i.start.isoformat(), i.end.isoformat())
            counted = "true" if i.counted else "false"
            claim = "" if i.ven_baseline_kw is None else round(i.ven_baseline_kw, 6)
            rows.append(
                (found.event_id, ven_id, name, *times, *values, i.quality, counted, delivery.delivery.value, ratio)
                + (claim, coverage, final, found.method)
            )
    return rows
