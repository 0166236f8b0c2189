"""One site's figures for one event, computed by the VTN: its own baseline from the meter data it holds.

The program's method (`Settlement.config`) runs on the site's load curve (imported, else its VEN's
TELEMETRY_USAGE: `meter_data`), told when the event was created (the notice); the requested
reduction follows from that baseline. What the VEN reported as its baseline is kept beside, as its
claim, never used.
"""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from mapping.curtailment import (
    CONTROL_GROUP,
    Achieved,
    Baseline,
    BaselineConfig,
    CurtailmentRefused,
    Flag,
    Measured,
    achieved,
    compute_baseline,
    history_window,
)
from mapping.curtailment import report as wire
from mapping.curtailment.curves import measure, read_by
from mapping.curtailment.requested import requested_by_slot
from mapping.grid import QUARTER, Segment
from mapping.oadr import model as m
from vtn.curtailment.meter_data import site_steps
from vtn.store import Tx


@dataclass(frozen=True)
class SiteFigures:
    """A site's intervals as the VTN computes them, and where its data came from."""

    achieved: tuple[Achieved, ...]
    baselines: tuple[Baseline, ...]
    #: the meter data used: "meter file <delivery point>", "TELEMETRY_USAGE"
    sources: tuple[str, ...]
    #: the share of the event's intervals with a measured value
    coverage: float
    #: why no baseline could be computed, when none could
    refusal: str | None = None


@dataclass(frozen=True)
class Claim:
    """A value the site's VEN reported, with the flags it gave it."""

    kw: float
    flags: frozenset[Flag]


@dataclass(frozen=True)
class SiteRef:
    """Which site: its venID, oadrVenName, delivery point and contracted kW."""

    ven_id: str
    ven_name: str
    delivery_point: str
    contracted_kw: float | None


def _span(window: tuple[datetime, datetime] | None, start: datetime, end: datetime) -> tuple[datetime, datetime]:
    return (min(window[0], start), max(window[1], end)) if window else (start, end)


def site_figures(
    session: Tx,
    event: m.Event,
    slots: Sequence[datetime],
    shares: Sequence[float],
    site: SiteRef,
    method: BaselineConfig,
    excluded_days: Collection[date] = (),
    controls: Sequence[Sequence[Measured]] = (),
    claims: Mapping[str, Mapping[datetime, Claim]] | None = None,
) -> SiteFigures:
    """Baseline, measured, requested and achieved of `site` over the event's intervals.

    `controls` are the control sites' measured series (`control_series`, read once per event); `claims` are what
    the site's VEN reported (`wire.BASELINE`, `wire.MEASURED` → value per interval start).
    A site's figures come from one source: the VTN's meter data when they give a figure for every interval
    (`_usable`), else the VEN's claims, every value flagged `claimed` (and the site never final)."""
    start, end = slots[0], slots[-1] + QUARTER
    window = history_window(method, start, end, excluded_days, event.created)
    span = _span(window, start, end)
    steps, sources = site_steps(session, site.ven_id, site.delivery_point, *span)
    reads = read_by(method, slots, event.created)
    # one pass over the steps for the history and the event; an x-of-y reads only its times of day
    means = measure(steps, span, min_coverage=0.9, only=None if reads is None else lambda s: s >= start or reads(s))
    history = [m for m in means if window is not None and window[0] <= m.start < window[1]]
    refusal = None
    try:
        baselines = compute_baseline(
            method, start, end, history=history, controls=controls, excluded_days=excluded_days, notified=event.created
        )
    except CurtailmentRefused as exc:  # e.g. counterfactual (the VTN holds no site's plan), control group without controls
        refusal = str(exc)
        baselines = tuple(Baseline(slot, None, frozenset({Flag.MISSING})) for slot in slots)
    during = {m.start: m for m in means if start <= m.start < end}
    measured = tuple(during.get(s) or Measured(s, None, 0, 0.0, frozenset({Flag.MISSING})) for s in slots)
    claims = claims or {}
    if not _usable(baselines, measured) and (claims.get(wire.BASELINE) or claims.get(wire.MEASURED)):
        baselines = tuple(_claimed_baseline(b.start, claims.get(wire.BASELINE, {})) for b in baselines)
        measured = tuple(_claimed_measured(item.start, claims.get(wire.MEASURED, {})) for item in measured)
        sources = ["VEN claim"]
    requested = requested_by_slot(event, {b.start: b.kw for b in baselines}, site.contracted_kw)
    noticed = dict(zip(slots, shares, strict=True))
    segments = [Segment(slot, slot + QUARTER, kw * noticed[slot]) for slot, kw in requested.items() if kw is not None]
    coverage = sum(1 for item in measured if item.kw is not None and Flag.CLAIMED not in item.flags) / len(slots)
    return SiteFigures(achieved(baselines, measured, requested=segments), baselines, tuple(sources), coverage, refusal)


def _usable(baselines: Sequence[Baseline], measured: Sequence[Measured]) -> bool:
    """Whether the VTN's own data give a figure: every baseline interval computed (from all the history the method
    reads, or flagged `insufficient_history` — then the site is not final), and something measured."""
    return all(b.kw is not None for b in baselines) and any(item.kw is not None for item in measured)


def _claimed_baseline(start: datetime, claimed: Mapping[datetime, Claim]) -> Baseline:
    claim = claimed.get(start)
    if claim is None:
        return Baseline(start, None, frozenset({Flag.MISSING, Flag.CLAIMED}))
    return Baseline(start, claim.kw, claim.flags | {Flag.CLAIMED})


def _claimed_measured(start: datetime, claimed: Mapping[datetime, Claim]) -> Measured:
    claim = claimed.get(start)
    if claim is None:
        return Measured(start, None, 0, 0.0, frozenset({Flag.MISSING, Flag.CLAIMED}))
    return Measured(start, claim.kw, 1, 1.0, claim.flags | {Flag.CLAIMED})


def control_series(
    session: Tx,
    event: m.Event,
    slots: Sequence[datetime],
    method: BaselineConfig,
    sites: Mapping[str, SiteRef],
    called: Collection[str],
) -> list[tuple[Measured, ...]]:
    """The control group of a control-group program, measured once for the event: every known site that was not
    called, over the method's window; none for other methods."""
    if method.method != CONTROL_GROUP:
        return []
    start, end = slots[0], slots[-1] + QUARTER
    window = history_window(method, start, end, (), event.created)
    span = _span(window, start, end)
    return [
        measure(site_steps(session, site.ven_id, site.delivery_point, *span)[0], window, 0.9)
        for ven_id, site in sites.items()
        if ven_id not in called
    ]
