"""The meter data the VTN settles on: a site's imported load curve, completed by its VEN's TELEMETRY_USAGE.

A meter operator's curve (`cariflex meter import`, POST /ui/meter-readings) is the reference where it
exists; where it does not (yet), the site-power the VEN reports as TELEMETRY_USAGE stands in, each
reading holding until the next (at most `MAX_HOLD`) or for the interval's duration. Both become
mean-power steps, and `mapping.curtailment` does the rest.
"""

from bisect import bisect_right
from datetime import datetime, timedelta

from mapping.curtailment import MeterStep
from mapping.flex.units import UnitRefused, power_kw
from mapping.oadr import report_model as r
from mapping.oadr.timefmt import parse_datetime
from vtn.store import Tx
from vtn.store import meter_repository as meters
from vtn.store import report_repository as reports

USAGE = "TELEMETRY_USAGE"
#: the data point our VEN reports the site's metered power on; another VEN's first power point otherwise
SITE_POWER = "site-power"
#: a telemetry reading without a duration stands for the site's power at most this long
MAX_HOLD = timedelta(minutes=5)
METER_FILE, TELEMETRY = "meter file", "TELEMETRY_USAGE"


def site_power_description(descriptions: list[tuple[str, str, r.ReportDescription]]) -> r.ReportDescription | None:
    """The TELEMETRY_USAGE data point that carries a site's metered power, if the VEN registered one."""
    usage = [d for _spec, name, d in descriptions if name.removeprefix("METADATA_") == USAGE and d.unit is not None]
    power = [d for d in usage if d.unit is not None and d.unit.kind in ("powerReal", "powerApparent")]
    return next((d for d in power if d.r_id == SITE_POWER), power[0] if power else None)


def telemetry_steps(session: Tx, ven_id: str, start: datetime, end: datetime) -> list[MeterStep]:
    """The VEN's site-power readings over [start, end) as steps; none when it reports no power or in a unit we cannot convert."""
    description = site_power_description(reports.descriptions(session, ven_id))
    if description is None:
        return []
    found = reports.points(session, ven_id=ven_id, report_name=USAGE, r_id=description.r_id, since=start - MAX_HOLD, until=end)
    readings: dict[datetime, tuple[float, float | None]] = {}
    for point in found:
        if point["value"] is None:
            continue
        try:
            readings[parse_datetime(point["dtstart"])] = (power_kw(point["value"], description.unit), point["duration_s"])
        except UnitRefused:
            return []  # no figures rather than wrong ones
    starts = sorted(readings)
    steps = []
    for at, following in zip(starts, [*starts[1:], None][: len(starts)], strict=True):
        kw, seconds = readings[at]
        held = timedelta(seconds=seconds) if seconds else MAX_HOLD
        until = min(at + held, following) if following is not None else at + held
        if until > at:
            steps.append(MeterStep(at, until, kw))
    return steps


def _apart(steps: list[MeterStep]) -> list[MeterStep]:
    """The time-ordered steps without those that overlap an earlier one: two imports of one delivery point in different
    steps (a 30-minute curve, later a 10-minute one) may overlap, and a moment has one value."""
    kept: list[MeterStep] = []
    for step in steps:
        if not kept or step.start >= kept[-1].end:
            kept.append(step)
    return kept


def _covered(curve: list[MeterStep], step: MeterStep) -> bool:
    """Whether a step of the (time-ordered, non-overlapping) curve overlaps `step`."""
    index = bisect_right(curve, step.start, key=_start)
    return any(c.start < step.end and step.start < c.end for c in curve[max(0, index - 1) : index + 1])


def _start(step: MeterStep) -> datetime:
    return step.start


def site_steps(
    session: Tx, ven_id: str, delivery_point: str, start: datetime, end: datetime
) -> tuple[list[MeterStep], list[str]]:
    """The steps covering [start, end) and the sources they came from: the imported curve, and the VEN's
    telemetry wherever the curve has no step."""
    curve = _apart(meters.steps_of(session, delivery_point, start, end))
    telemetry = telemetry_steps(session, ven_id, start, end)
    free = [s for s in telemetry if not _covered(curve, s)]
    sources = ([f"{METER_FILE} {delivery_point}"] if curve else []) + ([TELEMETRY] if free else [])
    return sorted(curve + free, key=lambda step: step.start), sources
