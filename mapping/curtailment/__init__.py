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
    CurtailmentRefused,
    Flag,
    Measured,
    Sample,
    event_slots,
)
from mapping.curtailment.achieved import Achieved, EventTotals, achieved, requested_from_limit, slot_values, totals
from mapping.curtailment.baseline import (
    COUNTERFACTUAL,
    RECTANGLE,
    X_OF_Y,
    Baseline,
    BaselineConfig,
    compute_baseline,
    counterfactual,
    eligible_days,
    history_window,
    rectangle,
    x_of_y,
)
from mapping.curtailment.performance import EXPORT_KW, MET_BAND, Delivery, IntervalFigures, Verdict, notice_shares, verdict
from mapping.curtailment.requested import import_limit_at, requested_by_slot
from mapping.curtailment.resampling import DEFAULT_MAX_HOLD, DEFAULT_MIN_COVERAGE, resample

__all__ = [
    "COUNTERFACTUAL",
    "DEFAULT_MAX_HOLD",
    "DEFAULT_MIN_COVERAGE",
    "EXPORT_KW",
    "INTERVAL_HOURS",
    "LOCAL_TZ",
    "MET_BAND",
    "RECTANGLE",
    "X_OF_Y",
    "Achieved",
    "Baseline",
    "BaselineConfig",
    "CurtailmentRefused",
    "Delivery",
    "EventTotals",
    "Flag",
    "IntervalFigures",
    "Measured",
    "Sample",
    "Verdict",
    "achieved",
    "compute_baseline",
    "counterfactual",
    "eligible_days",
    "event_slots",
    "history_window",
    "import_limit_at",
    "notice_shares",
    "rectangle",
    "requested_by_slot",
    "requested_from_limit",
    "resample",
    "slot_values",
    "totals",
    "verdict",
    "x_of_y",
]
