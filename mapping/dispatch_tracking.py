"""Scheduled versus actual: which plan value a quarter hour was asked, and how far the meter strayed from it. Pure.

The VEN re-plans often (each event change, each `replan_every`), and every plan starts at the current quarter hour,
so a slot may be named by many plans. The value that counts for a slot is the one the device (or site) had to
follow when the slot began:

- the value of the **last plan issued at or before the slot began**;
- if none was issued before it began, the **first plan issued during it** (the first plan a site ever gets
  starts in the current quarter hour);
- a plan issued after the slot ended never counts, and a re-plan never rewrites what a past slot was asked.

Deviation is actual − planned (kW, consumption positive: +1 means the device or site drew 1 kW more than asked,
or exported 1 kW less). It is beyond tolerance when |deviation| > max(0.5 kW, 10 % of |planned|): half a kW
covers a household's noise and a meter's rounding on a small setpoint, 10 % a large device's ramp and
efficiency. Worked examples in tests/test_dispatch_tracking.py and docs/ven.md, "Scheduled versus actual".
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from mapping.grid import QUARTER, floor_slot

#: the absolute part of the tolerance (kW)
DEFAULT_TOLERANCE_KW = 0.5
#: the relative part of the tolerance (share of |planned|)
DEFAULT_TOLERANCE_SHARE = 0.10
#: the series name of a site's net power at its meter (beside the device kinds: battery, evse, v2g, pv…)
SITE = "site"


@dataclass(frozen=True)
class Plan:
    """One plan for one series (a device's setpoints, or the site's net power): kW per quarter hour from `start`."""

    plan_id: str
    issued: datetime
    start: datetime
    values_kw: tuple[float, ...]

    def slots(self) -> Iterable[tuple[datetime, float]]:
        """(slot start, kW) of each value."""
        return ((self.start + i * QUARTER, kw) for i, kw in enumerate(self.values_kw))


def rank(issued: datetime, slot: datetime) -> tuple[int, float] | None:
    """How strongly a plan issued at `issued` speaks for `slot` (the greater wins; None: it does not count).

    Issued at or before the slot began: the later the stronger. Issued during it: weaker than any issued
    before, and the earlier the stronger. Issued after it ended: never."""
    if issued <= slot:
        return (1, issued.timestamp())
    if issued < slot + QUARTER:
        return (0, -issued.timestamp())
    return None


@dataclass(frozen=True)
class Planned:
    """What a slot was asked, and by which plan."""

    kw: float
    plan_id: str


def planned_for(plans: Iterable[Plan], slot: datetime) -> Planned | None:
    """The value that counts for `slot` among `plans` (the rule above); None when no plan counts for it.
    Two plans issued at the same instant: the later one in `plans` wins."""
    best: tuple[tuple[int, float], Planned] | None = None
    for plan in plans:
        strength = rank(plan.issued, slot)
        if strength is None:
            continue
        for start, kw in plan.slots():
            if start == slot and (best is None or strength >= best[0]):
                best = (strength, Planned(kw, plan.plan_id))
    return best[1] if best is not None else None


class PlanBook:
    """The value that counts per slot for one series, kept as plans arrive (in any order): `add` folds a plan in
    with the same rule as `planned_for`, so no plan needs keeping once folded."""

    def __init__(self) -> None:
        self._slots: dict[datetime, tuple[tuple[int, float], Planned]] = {}

    def add(self, plan: Plan) -> None:
        """Fold in one plan: each of its slots takes its value unless a stronger plan already speaks for it."""
        for slot, kw in plan.slots():
            strength = rank(plan.issued, slot)
            if strength is None:
                continue  # issued after the slot ended: a past slot keeps what it was asked
            held = self._slots.get(slot)
            if held is None or strength >= held[0]:
                self._slots[slot] = (strength, Planned(kw, plan.plan_id))

    def planned(self, slot: datetime) -> Planned | None:
        """What `slot` (a quarter hour's start) was asked; None when no plan counts for it."""
        held = self._slots.get(floor_slot(slot))
        return held[1] if held is not None else None

    def forget_before(self, moment: datetime) -> None:
        """Drop the slots that begin before `moment` (memory: only as far back as reports look)."""
        for slot in [s for s in self._slots if s < moment]:
            del self._slots[slot]

    def __len__(self) -> int:
        return len(self._slots)


def deviation_kw(planned_kw: float, actual_kw: float) -> float:
    """actual − planned (kW, consumption positive)."""
    return actual_kw - planned_kw


def tolerance_kw(planned_kw: float, absolute_kw: float = DEFAULT_TOLERANCE_KW, share: float = DEFAULT_TOLERANCE_SHARE) -> float:
    """The deviation allowed around `planned_kw`: max(absolute_kw, share × |planned_kw|)."""
    return max(absolute_kw, share * abs(planned_kw))


@dataclass(frozen=True)
class SlotCheck:
    """One completed slot of one series: what was planned, what the meter's mean says, and whether it strayed."""

    slot: datetime
    planned_kw: float
    actual_kw: float
    plan_id: str
    tolerance_kw: float

    @property
    def deviation_kw(self) -> float:
        """actual − planned (kW)."""
        return deviation_kw(self.planned_kw, self.actual_kw)

    @property
    def beyond(self) -> bool:
        """Whether |deviation| exceeds the tolerance."""
        return abs(self.deviation_kw) > self.tolerance_kw


def check_slot(
    slot: datetime,
    planned: Planned | None,
    actual_kw: float | None,
    absolute_kw: float = DEFAULT_TOLERANCE_KW,
    share: float = DEFAULT_TOLERANCE_SHARE,
) -> SlotCheck | None:
    """The comparison of one slot; None when there is nothing to compare (no plan, or no telemetry: never an
    invented 0)."""
    if planned is None or actual_kw is None:
        return None
    return SlotCheck(slot, planned.kw, actual_kw, planned.plan_id, tolerance_kw(planned.kw, absolute_kw, share))
