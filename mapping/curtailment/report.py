"""The achieved-curtailment report on the OpenADR wire: its name, rIDs and data-quality flags. Pure.

A VEN proves what a site did during an event with one custom report (2.0b allows `x-` report
names), one interval per 15-minute event interval, four rIDs in kW (consumption positive):

| rID                   | reportType | readingType | value                                   |
|-----------------------|------------|-------------|-----------------------------------------|
| `curtailment-baseline` | baseline   | Projected   | what the site would have drawn          |
| `curtailment-measured` | usage      | Mean        | what it drew (mean of the meter)        |
| `curtailment-achieved` | deltaUsage | Derived     | baseline − measured (positive: reduced) |
| `curtailment-planned`  | setPoint   | Projected   | the site's planned net power (its plan) |

The reportTypes are 2.0b's own (a third-party VTN knows baseline, usage, deltaUsage and setPoint). The planned
value is the one the VEN's plan asked of the site for that quarter hour (mapping/dispatch_tracking.py's rule: the
last plan issued before it began); it is left out where the VEN has no plan for the interval. `oadrDataQuality`
carries the flags: `Quality Good - Non Specific` (none) or an `x-` token listing them, e.g.
`x-estimated+partial`. A value that could not be computed is not sent at all (never a 0 standing for
nothing); an interval with no value is left out. Older Cariflex VENs sent a 0 with `No Quality - No
Value`, which receivers still read as no value.
"""

from collections.abc import Iterable

from mapping.curtailment._common import Flag
from mapping.curtailment.achieved import Achieved

REPORT_NAME = "x-ACHIEVED_CURTAILMENT"
BASELINE, MEASURED, ACHIEVED = "curtailment-baseline", "curtailment-measured", "curtailment-achieved"
PLANNED = "curtailment-planned"
REPORT_TYPES = {BASELINE: "baseline", MEASURED: "usage", ACHIEVED: "deltaUsage", PLANNED: "setPoint"}
READING_TYPES = {BASELINE: "Projected", MEASURED: "Mean", ACHIEVED: "Derived", PLANNED: "Projected"}
GOOD, NO_VALUE = "Quality Good - Non Specific", "No Quality - No Value"
_PREFIX = "x-"


def quality_of(flags: Iterable[Flag]) -> str:
    """The oadrDataQuality text for a value's flags."""
    chosen = set(flags)
    if Flag.MISSING in chosen:
        return NO_VALUE
    if not chosen:
        return GOOD
    return _PREFIX + "+".join(sorted(flag.value for flag in chosen))


def flags_of(quality: str | None) -> frozenset[Flag]:
    """The flags an oadrDataQuality text stands for (unknown `x-` tokens are ignored; other standard texts: none)."""
    if quality == NO_VALUE:
        return frozenset({Flag.MISSING})
    if quality is None or not quality.startswith(_PREFIX):
        return frozenset()
    known = {flag.value: flag for flag in Flag}
    return frozenset(known[token] for token in quality[len(_PREFIX) :].split("+") if token in known)


def has_value(quality: str | None) -> bool:
    """False for `No Quality - No Value`: the number beside it is a placeholder the schema demands."""
    return quality != NO_VALUE


def interval_payloads(item: Achieved, planned_kw: float | None = None) -> tuple[tuple[str, float, str], ...]:
    """(rID, value, quality) of each value one interval has; a value that could not be computed is left out, and so
    is the planned value where the VEN has no plan for the interval (`planned_kw` None). A plan is what it is: its
    value carries no measurement flag."""
    values = ((BASELINE, item.baseline_kw), (MEASURED, item.measured_kw), (ACHIEVED, item.achieved_kw))
    inherited = item.flags - {Flag.MISSING, Flag.NOTHING_REQUESTED}
    found = tuple((r_id, value, quality_of(inherited)) for r_id, value in values if value is not None)
    return found + (((PLANNED, planned_kw, GOOD),) if planned_kw is not None else ())
