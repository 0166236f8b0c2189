"""Store queries for the operations endpoints: readiness (schema revision) and VEN liveness at scrape time."""

from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from vtn.store import models as db


def schema_revision(session: Session) -> str | None:
    """The Alembic revision the store is at (None when the version table is empty)."""
    return session.execute(text("SELECT version_num FROM alembic_version")).scalar()


def seen_summary(session: Session, now: datetime, stale_after: timedelta) -> tuple[float | None, int]:
    """Registered VENs: the age in seconds of the oldest last-seen time (None: none seen yet), and how many
    have not been seen for longer than `stale_after` (never seen counts as stale)."""
    registered = db.Ven.registration_id.is_not(None)
    oldest = session.scalar(select(func.min(db.Ven.last_seen_at)).where(registered))
    stale = session.scalar(
        select(func.count())
        .select_from(db.Ven)
        .where(registered, (db.Ven.last_seen_at.is_(None)) | (db.Ven.last_seen_at < now - stale_after))
    )
    return ((now - oldest).total_seconds() if oldest is not None else None), int(stale or 0)
