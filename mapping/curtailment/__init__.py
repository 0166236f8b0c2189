"""Achieved curtailment: meter samples → 15-minute means, baselines, baseline − measured. Pure.

The package's API is exported here: the shared types (`Flag`, `CurtailmentRefused`, `Sample`,
`Measured`, in `_common`), the one 15-minute mean of power samples (`resample`, in `resampling`:
time-weighted, on `mapping.grid`'s slots), the baselines (`baseline`: what the site would have
consumed without the event), achieved against requested (`achieved`, `requested`), the verdict
(`performance`). The wire names of the achieved-curtailment report are `mapping.curtailment.report`.

Sign convention: net site power in kW, consumption (import) positive, export negative. Nothing is
ever invented: an interval without data has the value None and the flag `missing`.
"""

from mapping.curtailment._common import (
    INTERVAL_HOURS,
    LOCAL_TZ,
    Baseline,
    CurtailmentRefused,
    Flag,
    Measured,
    Sample,
    event_slots,
    reference_end,
)
from mapping.curtailment.achieved import Achieved, EventTotals, achieved, requested_from_limit, slot_values, totals
from mapping.curtailment.adjustment import ADDITIVE, MULTIPLICATIVE, Adjustment
from mapping.curtailment.baseline import (
    CONTROL_GROUP,
    COUNTERFACTUAL,
    METER_BEFORE_AFTER,
    METHODS,
    RECTANGLE,
    RECTANGLE_DOUBLE,
    X_OF_Y,
    BaselineConfig,
    compute_baseline,
    counterfactual,
    describe,
    history_window,
)
from mapping.curtailment.calendar import is_holiday, similar_days
from mapping.curtailment.control_group import control_group
from mapping.curtailment.performance import EXPORT_KW, MET_BAND, Delivery, IntervalFigures, Verdict, notice_shares, verdict
from mapping.curtailment.reference import rectangle, rectangle_double
from mapping.curtailment.requested import import_limit_at, requested_by_slot
from mapping.curtailment.resampling import DEFAULT_MAX_HOLD, DEFAULT_MIN_COVERAGE, MeterStep, resample, step_means
from mapping.curtailment.x_of_y import x_of_y

__all__ = [
    "ADDITIVE",
    "CONTROL_GROUP",
    "COUNTERFACTUAL",
    "DEFAULT_MAX_HOLD",
    "DEFAULT_MIN_COVERAGE",
    "EXPORT_KW",
    "INTERVAL_HOURS",
    "LOCAL_TZ",
    "METER_BEFORE_AFTER",
    "METHODS",
    "MET_BAND",
    "MULTIPLICATIVE",
    "RECTANGLE",
    "RECTANGLE_DOUBLE",
    "X_OF_Y",
    "Achieved",
    "Adjustment",
    "Baseline",
    "BaselineConfig",
    "CurtailmentRefused",
    "Delivery",
    "EventTotals",
    "Flag",
    "IntervalFigures",
    "Measured",
    "MeterStep",
    "Sample",
    "Verdict",
    "achieved",
    "compute_baseline",
    "control_group",
    "counterfactual",
    "describe",
    "event_slots",
    "history_window",
    "import_limit_at",
    "is_holiday",
    "notice_shares",
    "rectangle",
    "rectangle_double",
    "reference_end",
    "requested_by_slot",
    "requested_from_limit",
    "resample",
    "similar_days",
    "slot_values",
    "step_means",
    "totals",
    "verdict",
    "x_of_y",
]
