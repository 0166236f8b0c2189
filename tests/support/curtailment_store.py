"""A store holding one event, a site's x-ACHIEVED_CURTAILMENT report for it and the site's load curve, as the
VTN would have stored them, for tests of what the VTN serves from them (the query, the CLI, the table).

The load curve is what the VTN settles on (its own baseline: flat at the report's baseline for the 15 days
before the event, so any x-of-y or rectangle gives that value, then the measured values); the report's
baseline is the VEN's claim, equal to it."""

from datetime import datetime, timedelta

from mapping.curtailment import MeterStep
from mapping.curtailment import report as wire
from mapping.grid import QUARTER
from mapping.oadr.vocabulary import default_unit
from vtn.admin import events as event_admin
from vtn.domain import VenRecord
from vtn.store import curtailment_repository as curtailed
from vtn.store import meter_repository as meters
from vtn.store import report_repository as reports
from vtn.store import repository as repo
from vtn.store.worker import StoreWorker

LIMIT = ("x-IMPORT_CAPACITY_LIMIT", "setpoint")
HISTORY, HALF_HOUR = timedelta(days=15), timedelta(minutes=30)


def store_event(store: StoreWorker, event_id: str, start: datetime, limits: list[float], created: datetime) -> None:
    """An import-limit event of `limits` (kW, one per 15-minute interval from `start`), created at `created`."""
    name, kind = LIMIT
    event = event_admin.draft_uniform_event(
        name,
        kind,
        limits,
        QUARTER,
        default_unit(name, kind),
        market_context="http://cariflex.mq/programs/test",
        dtstart=start,
        now=created,
        near_window=timedelta(hours=1),
        event_id=event_id,
    )
    store.call_sync(event_admin.create_event, event, "test", created)


def store_report(
    store: StoreWorker,
    event_id: str,
    ven_id: str,
    ven_name: str,
    start: datetime,
    rows: list[tuple[float, float]],
    claimed: list[float] | None = None,
) -> None:
    """`ven_id` (named `ven_name`) registered, and its report for the event: (baseline, measured) kW per interval,
    achieved their difference, all of good quality; `claimed` the baselines the VEN reports instead, when its claim
    differs from what its meter curve says."""
    now = start + len(rows) * QUARTER
    store.call_sync(repo.save_ven, VenRecord(ven_id, ven_name, f"reg-{ven_id}"), now, True)
    request = f"rr-{event_id}-{ven_id}"
    points = []
    for k, (baseline, measured) in enumerate(rows):
        said = claimed[k] if claimed is not None else baseline
        for r_id, value in ((wire.BASELINE, said), (wire.MEASURED, measured), (wire.ACHIEVED, said - measured)):
            points.append(
                {
                    "report_request_id": request,
                    "report_specifier_id": f"{ven_name}:{wire.REPORT_NAME}",
                    "report_name": wire.REPORT_NAME,
                    "r_id": r_id,
                    "reading_type": wire.READING_TYPES[r_id],
                    "dtstart": start + k * QUARTER,
                    "duration_s": QUARTER.total_seconds(),
                    "value": value,
                    "status": None,
                    "confidence": None,
                    "accuracy": None,
                    "data_quality": wire.GOOD,
                }
            )
    store.call_sync(reports.store_points, ven_id, points, now)
    store.call_sync(curtailed.record_request, event_id, ven_id, request, now)
    store_curve(store, ven_name, start, rows[0][0], [measured for _, measured in rows], now)


def store_curve(
    store: StoreWorker, delivery_point: str, start: datetime, before_kw: float, during: list[float], now: datetime
) -> None:
    """A meter operator's load curve: `before_kw` in 30-minute steps over the 15 days before `start`, then `during`
    (kW, one 15-minute step each)."""
    steps = [
        MeterStep(start - HISTORY + n * HALF_HOUR, start - HISTORY + (n + 1) * HALF_HOUR, before_kw)
        for n in range(HISTORY // HALF_HOUR)
    ]
    steps += [MeterStep(start + k * QUARTER, start + (k + 1) * QUARTER, kw) for k, kw in enumerate(during)]
    store.call_sync(meters.import_curves, {delivery_point: steps}, "test curve", "test", now)
