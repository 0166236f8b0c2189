"""Load curves the VTN holds (imported meter-operator files): store, correct, read back as steps."""

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from mapping.curtailment import MeterStep
from vtn.store.curtailment_models import MeterImport, MeterReading


@dataclass(frozen=True)
class ImportSummary:
    """What one import did."""

    batch: str
    delivery_points: int
    added: int
    corrected: int
    unchanged: int


def import_curves(
    session: Session, curves: Mapping[str, Sequence[MeterStep]], source: str, actor: str, now: datetime
) -> ImportSummary:
    """Store every step; a step already held with another value is corrected (its revision counted), an equal one kept."""
    batch = uuid.uuid4().hex
    corrected = unchanged = 0
    new: list[dict[str, object]] = []
    for point, steps in curves.items():
        if not steps:
            continue
        held = {
            row.start: row
            for row in session.scalars(
                select(MeterReading)
                .where(MeterReading.delivery_point == point)
                .where(MeterReading.start >= steps[0].start)
                .where(MeterReading.start <= steps[-1].start)
            )
        }
        for step in steps:
            row = held.get(step.start)
            if row is None:
                new.append(
                    {
                        "delivery_point": point,
                        "start": step.start,
                        "end": step.end,
                        "kw": step.kw,
                        "estimated": step.estimated,
                        "batch": batch,
                        "revision": 0,
                        "imported_at": now,
                    }
                )
            elif (row.end, row.kw, row.estimated) != (step.end, step.kw, step.estimated):
                row.end, row.kw, row.estimated, row.batch = step.end, step.kw, step.estimated, batch
                row.revision += 1
                row.imported_at = now
                corrected += 1
            else:
                unchanged += 1
    if new:  # one executemany: a year of 10-minute steps is 52,560 rows
        session.execute(insert(MeterReading), new)
    added = len(new)
    session.add(
        MeterImport(
            batch=batch,
            source=source[:256],
            actor=actor[:128],
            delivery_points=len(curves),
            added=added,
            corrected=corrected,
            imported_at=now,
        )
    )
    return ImportSummary(batch, len(curves), added, corrected, unchanged)


def steps_of(session: Session, delivery_point: str, start: datetime, end: datetime) -> list[MeterStep]:
    """The steps of `delivery_point` that overlap [start, end), in time order."""
    columns = (MeterReading.start, MeterReading.end, MeterReading.kw, MeterReading.estimated)
    rows = session.execute(  # columns, not ORM objects: an x-of-y history is thousands of steps per site
        select(*columns)
        .where(MeterReading.delivery_point == delivery_point)
        .where(MeterReading.end > start)
        .where(MeterReading.start < end)
        .order_by(MeterReading.start)
    )
    return [MeterStep(row_start, row_end, kw, estimated) for row_start, row_end, kw, estimated in rows]


def points_with_readings(session: Session, delivery_points: Iterable[str]) -> set[str]:
    """The delivery points among those given that have at least one step."""
    wanted = list(delivery_points)
    if not wanted:
        return set()
    return set(session.scalars(select(MeterReading.delivery_point).where(MeterReading.delivery_point.in_(wanted)).distinct()))


def recent_imports(session: Session, limit: int = 50) -> list[MeterImport]:
    """The latest imports, newest first."""
    return list(session.scalars(select(MeterImport).order_by(MeterImport.imported_at.desc()).limit(limit)))
