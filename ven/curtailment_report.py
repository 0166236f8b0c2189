"""The site's achieved curtailment over a window, as the intervals of an x-ACHIEVED_CURTAILMENT report.

The VTN asks for the window of an event once it is over; the VEN answers from its own meter
samples (`TelemetrySource.samples`, site-power) with the baseline method of the event's program
(`[curtailment]` in ven.toml). The maths is mapping/curtailment's; this module only fetches and wraps.
"""

import logging
from collections.abc import Collection
from datetime import date, datetime

from mapping.curtailment import (
    COUNTERFACTUAL,
    Baseline,
    BaselineConfig,
    CurtailmentRefused,
    Flag,
    Measured,
    achieved,
    compute_baseline,
    event_slots,
    history_window,
    resample,
)
from mapping.curtailment import report as wire
from mapping.curtailment.calendar import local_day
from mapping.grid import QUARTER
from mapping.oadr import report_model as r
from ven.site import Site

log = logging.getLogger("cariflex.ven.curtailment")
METER_R_ID = "site-power"


def program_baseline(site: Site, start: datetime, end: datetime) -> BaselineConfig:
    """The baseline method of the program of an event the site held over [start, end), else the default."""
    settings = site.ven.curtailment
    for known in site.store.events(site.name).values():
        event = known.event
        ends = event.dtstart + event.duration
        if event.dtstart < end and ends > start and event.market_context in settings.programs:
            return settings.programs[event.market_context]
    return settings.baseline


def _measured(site: Site, start: datetime, end: datetime) -> tuple[Measured, ...]:
    settings = site.ven.curtailment
    samples = site.source.samples(site.config, METER_R_ID, start, end)
    return resample(samples, start, end, max_hold=settings.max_hold, min_coverage=settings.min_coverage)


def _baseline(site: Site, config: BaselineConfig, start: datetime, end: datetime) -> tuple[Baseline, ...]:
    if config.method == COUNTERFACTUAL:
        raise CurtailmentRefused(
            "schedule", "the counterfactual baseline needs the site's schedule without the event; this VEN keeps none"
        )
    excluded = _earlier_event_days(site, config, start)
    window = history_window(config, start, end, excluded)
    history = _measured(site, *window) if window else ()
    return compute_baseline(config, start, end, history=history, excluded_days=excluded)


def _earlier_event_days(site: Site, config: BaselineConfig, start: datetime) -> set[date]:
    """The days of the site's earlier events (any program): an x-of-y baseline passes over them, since the site
    did not draw as usual on those days."""
    today = local_day(start, config.holidays)
    days = {local_day(known.event.dtstart, config.holidays) for known in site.store.events(site.name).values()}
    return {day for day in days if day < today}


def curtailment_intervals(
    site: Site, start: datetime, end: datetime, r_ids: Collection[str] | None = None
) -> list[r.ReportInterval]:
    """One report interval per 15-minute interval of [start, end): baseline, measured, achieved (kW), flagged, and
    the site's planned net power where the VEN kept a plan for it; only the rIDs of `r_ids` when given (those the
    request names)."""
    measured = _measured(site, start, end)
    try:
        baseline = _baseline(site, program_baseline(site, start, end), start, end)
    except CurtailmentRefused as exc:
        log.warning("%s: no baseline for %s–%s (%s); measured values are reported alone", site.name, start, end, exc)
        baseline = tuple(Baseline(slot, None, frozenset({Flag.MISSING})) for slot in event_slots(start, end))
    intervals = []
    planned = site.planned_kw
    for index, item in enumerate(achieved(baseline, measured)):
        planned_kw = planned(site.name, item.start) if planned is not None else None
        payloads = tuple(
            r.ReportPayload(r_id=r_id, value=value, data_quality=quality)
            for r_id, value, quality in wire.interval_payloads(item, planned_kw)
            if r_ids is None or r_id in r_ids
        )
        if payloads:  # an interval with nothing computed is left out (2.0b wants at least one payload per interval)
            intervals.append(r.ReportInterval(payloads=payloads, dtstart=item.start, duration=QUARTER, uid=str(index)))
    return intervals
