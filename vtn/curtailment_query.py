"""Achieved curtailment per event, per VEN and in total, as the VTN holds it (issue 7 fills this in).

The shape is the contract between the report store and its readers (JSON/CSV API, operator UI):
kW throughout, consumption positive, a reduction positive; None where nothing was reported.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class CurtailmentInterval:
    """One event interval: what was asked and what the site(s) did."""

    start: datetime
    end: datetime
    requested_kw: float | None
    baseline_kw: float | None
    measured_kw: float | None
    achieved_kw: float | None
    quality: str  # "good", "estimated" or "missing"


@dataclass(frozen=True)
class SiteCurtailment:
    """One VEN's intervals for the event and its achieved/requested ratio."""

    ven_id: str
    ven_name: str
    intervals: tuple[CurtailmentInterval, ...]
    ratio: float | None


@dataclass(frozen=True)
class EventCurtailment:
    """Every VEN's intervals for one event, and the sum over VENs per interval."""

    event_id: str
    total: tuple[CurtailmentInterval, ...]
    sites: tuple[SiteCurtailment, ...]
    ratio: float | None


def event_curtailment(session: Session, event_id: str) -> EventCurtailment:
    """What the VTN holds for an event; empty until the VENs' curtailment reports arrive."""
    return EventCurtailment(event_id=event_id, total=(), sites=(), ratio=None)
