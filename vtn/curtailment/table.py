"""An event's achieved curtailment as a readable table: one line per site and a TOTAL, kW as means over
the event, what was delivered against what was asked, and the data's quality. Pure.

`cariflex reports curtailment EVENT_ID --format table` prints it, and so does the demo at its end, so
the two always agree. For example:

    site       requested  baseline  measured  achieved  ven claim  delivered  delivery       state        quality
    site-21        15.30     24.30     15.46      8.84      25.10        58%  under          final        good
    site-31         8.82     13.32      4.46      8.87      13.32       101%  met            final        good
    TOTAL          24.12     37.62     19.92     17.71      38.42        73%  under          final        good
    baseline: x-of-y: high 10 of 10 weekdays (…) — the VTN's, on the meter data it holds; ven claim: the VENs' own
    kW, mean over the event's counted intervals; delivered = achieved / requested (energy over the intervals with both)
    delivery: under < 90% ≤ met ≤ 120% < over; export: mean net power below −0.1 kW (the site fed the grid)
    state: final (the VTN's meter data cover the event), provisional (not yet), claimed (the VEN's figures)
"""

import math
from collections.abc import Sequence

from mapping.curtailment import Flag
from mapping.curtailment.performance import EXPORT_KW, MET_BAND, Verdict
from vtn.curtailment.query import CurtailmentInterval, EventCurtailment, SiteCurtailment

#: the kW columns, each the mean of CurtailmentInterval's `<name>_kw`
KW_COLUMNS = ("requested", "baseline", "measured", "achieved")
#: the narrowest site column ("TOTAL" and the demo's "site-01" fit)
MIN_NAME_WIDTH = 10


def table_lines(found: EventCurtailment) -> list[str]:
    """The table's lines (header, a line per site by name, TOTAL, then what the numbers mean)."""
    if not found.sites:
        return [f"no curtailment reported yet for event {found.event_id}"]
    sites = sorted(found.sites, key=lambda s: s.ven_name)
    width = max(MIN_NAME_WIDTH, *(len(s.ven_name) for s in sites))
    header = " ".join(f"{name:>9}" for name in KW_COLUMNS)
    lines = [f"{'site':<{width}} {header}  {'ven claim':>9}  {'delivered':>9}  {'delivery':<13}  {'state':<11}  quality"]
    lines += [_row(s.ven_name, width, s.intervals, s.delivery, _state(s)) for s in sites]
    total_state = "final" if all(s.final for s in sites) else "provisional"
    lines.append(_row("TOTAL", width, found.total, found.delivery, total_state, [i for s in sites for i in s.intervals]))
    lines += _legend(found)
    return lines


def _mean(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return math.fsum(known) / len(known) if known else None


def kw(value: float | None) -> str:
    """A power in kW to two decimals ('3.75'), or a dash for no value: the table's and the UI pages' format."""
    return "—" if value is None else f"{value:.2f}"


def _state(site: SiteCurtailment) -> str:
    if "VEN claim" in site.sources:
        return "claimed"
    return "final" if site.final else "provisional"


def _row(
    name: str,
    width: int,
    intervals: Sequence[CurtailmentInterval],
    delivery: Verdict,
    state: str,
    claims_of: Sequence[CurtailmentInterval] | None = None,
) -> str:
    counted = [i for i in intervals if i.counted]
    means = " ".join(f"{kw(_mean([getattr(i, f'{name}_kw') for i in counted])):>9}" for name in KW_COLUMNS)
    claimed = _claim(counted) if claims_of is None else _claim_sum(claims_of, counted)
    delivered = "—" if delivery.ratio is None else f"{delivery.ratio:.0%}"
    quality = ",".join(sorted({i.quality for i in intervals})) or "—"
    return f"{name:<{width}} {means}  {kw(claimed):>9}  {delivered:>9}  {delivery.delivery.value:<13}  {state:<11}  {quality}"


def _claim(counted: Sequence[CurtailmentInterval]) -> float | None:
    return _mean([i.ven_baseline_kw for i in counted])


def _claim_sum(all_sites: Sequence[CurtailmentInterval], total: Sequence[CurtailmentInterval]) -> float | None:
    """The VENs' claimed baselines summed per interval, then averaged over the total's counted intervals."""
    per_slot: dict[object, float] = {}
    for i in all_sites:
        if i.counted and i.ven_baseline_kw is not None:
            per_slot[i.start] = per_slot.get(i.start, 0.0) + i.ven_baseline_kw
    return _mean([per_slot.get(i.start) for i in total])


def _legend(found: EventCurtailment) -> list[str]:
    low, high = MET_BAND
    lines = [
        f"baseline: {found.method} — the VTN's, on the meter data it holds; ven claim: the VENs' own baselines",
        "kW, mean over the event's intervals; delivered = achieved / requested (energy over the intervals with both)",
        f"delivery: under < {low:.0%} ≤ met ≤ {high:.0%} < over; "
        f"export: mean net power below −{EXPORT_KW:g} kW (the site fed the grid)",
        "state: final (the VTN's meter data cover the event), provisional (not yet), claimed (the VEN's own figures)",
    ]
    if any(Flag.BEFORE_NOTICE.value in i.quality.split("+") for i in found.total):
        lines.append(
            "before_notice: created after the interval began; requested counts from the event's creation, "
            "earlier intervals are left out"
        )
    return lines
