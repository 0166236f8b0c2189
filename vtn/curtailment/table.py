"""An event's achieved curtailment as a readable table: one line per site and a TOTAL, kW as means over
the event, what was delivered against what was asked, and the data's quality. Pure.

`cariflex reports curtailment EVENT_ID --format table` prints it, and so does the demo at its end, so
the two always agree. For example:

    site       requested  baseline  measured  achieved  delivered  delivery       quality
    site-21        15.30     24.30     15.46      8.84        58%  under          good
    site-31         8.82     13.32      4.46      8.87       101%  met            good
    TOTAL          24.12     37.62     19.92     17.71        73%  under          good
    kW, mean over the event's counted intervals; delivered = achieved / requested (energy over the intervals with both)
    delivery: under < 90% ≤ met ≤ 120% < over; export: mean net power below −0.1 kW (the site fed the grid)
"""

import math
from collections.abc import Sequence

from mapping.curtailment import Flag
from mapping.curtailment.performance import EXPORT_KW, MET_BAND, Verdict
from vtn.curtailment.query import CurtailmentInterval, EventCurtailment

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
    lines = [f"{'site':<{width}} {header}  {'delivered':>9}  {'delivery':<13}  quality"]
    lines += [_row(s.ven_name, width, s.intervals, s.delivery) for s in sites]
    lines.append(_row("TOTAL", width, found.total, found.delivery))
    lines += _legend(found)
    return lines


def _mean(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return math.fsum(known) / len(known) if known else None


def kw(value: float | None) -> str:
    """A power in kW to two decimals ('3.75'), or a dash for no value: the table's and the UI pages' format."""
    return "—" if value is None else f"{value:.2f}"


def _row(name: str, width: int, intervals: Sequence[CurtailmentInterval], delivery: Verdict) -> str:
    counted = [i for i in intervals if i.counted]
    means = " ".join(f"{kw(_mean([getattr(i, f'{name}_kw') for i in counted])):>9}" for name in KW_COLUMNS)
    delivered = "—" if delivery.ratio is None else f"{delivery.ratio:.0%}"
    quality = ",".join(sorted({i.quality for i in intervals})) or "—"
    return f"{name:<{width}} {means}  {delivered:>9}  {delivery.delivery.value:<13}  {quality}"


def _legend(found: EventCurtailment) -> list[str]:
    low, high = MET_BAND
    lines = [
        "kW, mean over the event's intervals; delivered = achieved / requested (energy over the intervals with both)",
        f"delivery: under < {low:.0%} ≤ met ≤ {high:.0%} < over; "
        f"export: mean net power below −{EXPORT_KW:g} kW (the site fed the grid)",
    ]
    if any(Flag.BEFORE_NOTICE.value in i.quality.split("+") for i in found.total):
        lines.append(
            "before_notice: created after the interval began; requested counts from the event's creation, "
            "earlier intervals are left out"
        )
    return lines
