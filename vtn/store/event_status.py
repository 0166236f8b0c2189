"""Each status an event took, per modification (table `event_status_change`, revision 0010).

Written in the same transaction as the status itself (event creation, revision, lifecycle change),
so the history is exactly what VENs could have been given; read by operators and by the scale-out
tests, which check that a leader change neither misses nor doubles a transition.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from vtn.store import models as db


@dataclass(frozen=True)
class StatusChange:
    """One status an event entered under one modification."""

    event_id: str
    modification_number: int
    status: str
    at: datetime
    origin: str


def record_status(session: Session, event_id: str, modification_number: int, status: str, now: datetime) -> None:
    """Note that the event entered `status` under `modification_number` (tagged with the writer's origin)."""
    session.add(
        db.EventStatusChange(
            event_id=event_id,
            modification_number=modification_number,
            status=status,
            at=now,
            origin=session.info.get("origin", "cli"),
        )
    )


def status_history(session: Session, event_id: str) -> list[StatusChange]:
    """Every status the event took, oldest first."""
    rows = session.scalars(
        select(db.EventStatusChange).where(db.EventStatusChange.event_id == event_id).order_by(db.EventStatusChange.id)
    )
    return [StatusChange(r.event_id, r.modification_number, r.status, r.at, r.origin) for r in rows]
