"""Settlement statements: what each site delivered per event under its program's rules, and a fingerprint. Pure.

A line is one site's share of one event, over the intervals that count (those after the event's notice):
requested, baseline and measured energy, achieved (baseline − measured) and delivered — achieved held
within [0, requested] per interval when the program caps delivery at what it asked (the default), so an
over-delivery in one quarter hour does not pay for a shortfall in another. An interval without an
achieved value delivers nothing and is counted as missing, never dropped: a gap cannot flatter a site.
The outcome compares delivered with requested within the program's tolerance band.

Once issued a statement does not change: `content_hash` fingerprints its canonical JSON, and a later
statement over the same scope names the one it replaces and why.
"""

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from mapping.curtailment._common import INTERVAL_HOURS, CurtailmentRefused

AS_ASKED, UNDER, OVER, NOTHING_ASKED, NO_DATA = "as asked", "under", "over", "nothing asked", "no data"


@dataclass(frozen=True)
class ProgramRules:
    """How a program pays: delivery capped at the request or not, and the band that counts as delivered as asked."""

    cap_at_requested: bool = True
    tolerance: float = 0.10  # delivered within ±10 % of requested is delivered as asked

    def __post_init__(self) -> None:
        """Refuses a band no statement can use."""
        if not (math.isfinite(self.tolerance) and 0 <= self.tolerance < 1):
            raise CurtailmentRefused("tolerance", f"{self.tolerance!r} must be a share in [0, 1)")


@dataclass(frozen=True)
class IntervalInput:
    """One interval of a site's figures (kW; None: no value)."""

    requested_kw: float | None
    baseline_kw: float | None
    measured_kw: float | None
    achieved_kw: float | None
    counted: bool = True


@dataclass(frozen=True)
class SiteEvent:
    """One site's figures for one event, as the VTN computed them."""

    event_id: str
    site: str
    method: str
    #: final, provisional or claimed (the VEN's own figures)
    status: str
    coverage: float
    intervals: tuple[IntervalInput, ...]


@dataclass(frozen=True)
class StatementLine:
    """What one site delivered in one event (kWh over the counted intervals)."""

    event_id: str
    site: str
    method: str
    status: str
    coverage: float
    intervals: int
    missing_intervals: int
    requested_kwh: float
    baseline_kwh: float | None
    measured_kwh: float | None
    achieved_kwh: float | None
    delivered_kwh: float
    shortfall_kwh: float
    outcome: str


def _energy(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return math.fsum(known) * INTERVAL_HOURS if known else None


def _delivered(item: IntervalInput, rules: ProgramRules) -> float:
    if item.achieved_kw is None:
        return 0.0
    if not rules.cap_at_requested:
        return item.achieved_kw
    asked = max(item.requested_kw or 0.0, 0.0)
    return min(max(item.achieved_kw, 0.0), asked)


def _outcome(requested: float, delivered: float, any_value: bool, rules: ProgramRules) -> str:
    if not any_value:
        return NO_DATA
    if requested <= 0:
        return NOTHING_ASKED
    if delivered < requested * (1 - rules.tolerance):
        return UNDER
    if delivered > requested * (1 + rules.tolerance):
        return OVER
    return AS_ASKED


def statement_line(figures: SiteEvent, rules: ProgramRules) -> StatementLine:
    """The line of one site and event."""
    counted = [i for i in figures.intervals if i.counted]
    requested = math.fsum(max(i.requested_kw or 0.0, 0.0) for i in counted) * INTERVAL_HOURS
    delivered = math.fsum(_delivered(i, rules) for i in counted) * INTERVAL_HOURS
    missing = sum(1 for i in counted if i.achieved_kw is None)
    return StatementLine(
        event_id=figures.event_id,
        site=figures.site,
        method=figures.method,
        status=figures.status,
        coverage=round(figures.coverage, 4),
        intervals=len(counted),
        missing_intervals=missing,
        requested_kwh=round(requested, 6),
        baseline_kwh=_rounded(_energy(i.baseline_kw for i in counted)),
        measured_kwh=_rounded(_energy(i.measured_kw for i in counted)),
        achieved_kwh=_rounded(_energy(i.achieved_kw for i in counted)),
        delivered_kwh=round(delivered, 6),
        shortfall_kwh=round(max(requested - delivered, 0.0), 6),
        outcome=_outcome(requested, delivered, missing < len(counted), rules),
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def totals(lines: Sequence[StatementLine]) -> dict[str, Any]:
    """Sums over the lines; `final` only when every line is."""
    return {
        "lines": len(lines),
        "requested_kwh": round(math.fsum(line.requested_kwh for line in lines), 6),
        "delivered_kwh": round(math.fsum(line.delivered_kwh for line in lines), 6),
        "shortfall_kwh": round(math.fsum(line.shortfall_kwh for line in lines), 6),
        "missing_intervals": sum(line.missing_intervals for line in lines),
        "final": bool(lines) and all(line.status == "final" for line in lines),
    }


def line_dicts(lines: Sequence[StatementLine]) -> list[dict[str, Any]]:
    """The lines as JSON objects (the statement's `lines`)."""
    return [asdict(line) for line in lines]


#: the CSV columns of a statement's lines
LINE_COLUMNS = tuple(StatementLine.__dataclass_fields__)


def content_hash(document: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of `document` (keys sorted, no spaces): the statement's fingerprint."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
