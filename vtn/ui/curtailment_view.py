"""The curtailment section of an event's page: per site and in total, the chart, its numbers, and
how much of the request was delivered (the verdict `vtn.curtailment.query` gives each site and the
total: under, met, over, export, nothing asked, no data). Pure."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo
from math import fsum

from mapping.curtailment.performance import MET_BAND, Verdict
from vtn.curtailment.query import CurtailmentInterval, EventCurtailment, SiteCurtailment
from vtn.ui.chart import interval_rows, render_chart
from vtn.ui.formatting import site_order

#: what the verdicts mean, under the per-site table
VERDICT_HINT = (
    f"met: {MET_BAND[0]:.0%} to {MET_BAND[1]:.0%} of the requested reduction delivered; under: less; over: more; "
    "export: the site fed the grid on average; nothing asked: no reduction was requested; no data: nothing measured. "
    "Intervals that ended before the event was created are shown but not counted. The baseline is the VTN's, by the "
    "program's method, on the meter data it holds; the VEN's claim is shown beside it. A site is final once its own "
    "meter data cover the event; provisional (or claimed: the VEN's figures, the VTN holding too little) before. "
    "Planned: the site's net power its VEN's plan asked for (as the VEN reports it), beside measured; summed as energy "
    "over the intervals with both."
)


@dataclass(frozen=True)
class CurtailmentBlock:
    """One chart of the page: all sites ('total') or one VEN."""

    scope: str  # "total" or the venID
    title: str
    svg: str
    rows: list[dict[str, object]]
    verdict: Verdict
    #: of the intervals the verdict counts (those after the event's creation), how many have an achieved value
    reported: int
    counted: int
    #: where the figures come from ("meter file …", "TELEMETRY_USAGE", "VEN claim"), empty for the total
    sources: tuple[str, ...] = ()
    #: the share of intervals measured from the VTN's own meter data (None for the total)
    coverage: float | None = None
    #: final (settleable) or provisional
    final: bool = False
    #: planned and measured energy (kWh) over the intervals with both; None when no interval has a plan
    planned_kwh: float | None = None
    measured_kwh: float | None = None


def planned_energy(intervals: Sequence[CurtailmentInterval]) -> tuple[float | None, float | None]:
    """(planned kWh, measured kWh) summed over the intervals that have both a planned and a measured value, so the
    two sums compare like with like; (None, None) when none has."""
    both = [
        (i.planned_kw, i.measured_kw, (i.end - i.start).total_seconds() / 3600)
        for i in intervals
        if i.planned_kw is not None and i.measured_kw is not None
    ]
    if not both:
        return None, None
    return fsum(p * hours for p, _m, hours in both), fsum(m * hours for _p, m, hours in both)


def _block(
    scope: str,
    title: str,
    intervals: Sequence[CurtailmentInterval],
    delivery: Verdict,
    zone: tzinfo,
    site: SiteCurtailment | None = None,
    final: bool = False,
    paired: Sequence[CurtailmentInterval] | None = None,
) -> CurtailmentBlock:
    counted = [i for i in intervals if i.counted]
    # the total's sums pair each site's planned with its own measured (a site without plans adds to neither)
    planned_kwh, measured_kwh = planned_energy(intervals if paired is None else paired)
    return CurtailmentBlock(
        scope=scope,
        title=title,
        svg=render_chart(intervals, title, zone),
        rows=interval_rows(intervals),
        verdict=delivery,
        reported=sum(1 for i in counted if i.achieved_kw is not None),
        counted=len(counted),
        sources=site.sources if site else (),
        coverage=site.coverage if site else None,
        final=site.final if site else final,
        planned_kwh=planned_kwh,
        measured_kwh=measured_kwh,
    )


def _has_figures(site: SiteCurtailment) -> bool:
    """Whether the site has a baseline yet (its VTN figures or its VEN's claim): without one nothing is charted."""
    return any(i.baseline_kw is not None for i in site.intervals)


def curtailment_blocks(curtailment: EventCurtailment, zone: tzinfo) -> list[CurtailmentBlock]:
    """All sites first, then each site with figures in site-name order; none when nothing is known yet."""
    sites = sorted((s for s in curtailment.sites if _has_figures(s)), key=lambda s: site_order(s.ven_name, s.ven_id))
    final = bool(sites) and all(s.final for s in sites)
    paired = [i for s in sites for i in s.intervals]
    total = (
        [_block("total", "All sites", curtailment.total, curtailment.delivery, zone, final=final, paired=paired)] if sites else []
    )
    return [*total, *(_block(s.ven_id, s.ven_name or s.ven_id, s.intervals, s.delivery, zone, s) for s in sites)]
