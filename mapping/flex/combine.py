"""Overlapping events → one value per 15-minute slot per constraint kind. Pure.

Rules: at any instant the highest-priority constraint in force wins (2.0b priority 1 highest);
among equal priorities the stricter one wins (the lower limit; the higher price; the higher
state-of-charge target). A slot gets the strictest of the winners of the moments it contains, so
a constraint that covers only part of a slot still binds the whole slot: the 15-minute grid never
loosens a limit. Slots are those of `mapping.grid`.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from mapping.flex.constraints import INSTANT_KINDS, LOWER_IS_STRICTER, Constraint
from mapping.grid import QUARTER, Segment, floor_slot


def _better(kind: str, a: Constraint, b: Constraint) -> Constraint:
    if a.priority != b.priority:
        return a if a.priority < b.priority else b
    if kind in LOWER_IS_STRICTER:
        return a if a.value <= b.value else b
    return a if a.value >= b.value else b


def combine(constraints: Iterable[Constraint], resolution: timedelta = QUARTER) -> dict[str, list[Segment]]:
    """Per kind, the winning value in every slot any constraint touches, merged into segments."""
    by_kind: dict[str, list[Constraint]] = {}
    for c in constraints:
        by_kind.setdefault(c.kind, []).append(c)
    result: dict[str, list[Segment]] = {}
    for kind, items in by_kind.items():
        if kind in INSTANT_KINDS:
            result[kind] = _instants(kind, items)
            continue
        slots: dict[datetime, float] = {}
        for start, end, winner in _winners(kind, items):
            slot = floor_slot(start, resolution)
            while slot < end:
                held = slots.get(slot)
                slots[slot] = winner.value if held is None else _stricter(kind, held, winner.value)
                slot += resolution
        result[kind] = _merge(sorted(slots.items()), resolution)
    return result


def _stricter(kind: str, a: float, b: float) -> float:
    return min(a, b) if kind in LOWER_IS_STRICTER else max(a, b)


def _winners(kind: str, items: list[Constraint]) -> list[tuple[datetime, datetime, Constraint]]:
    """The winning constraint of every stretch between consecutive constraint boundaries."""
    points = sorted({c.start for c in items} | {c.end for c in items})
    stretches = []
    for start, end in zip(points, points[1:], strict=False):
        in_force = [c for c in items if c.start < end and c.end > start]
        if in_force:
            winner = in_force[0]
            for c in in_force[1:]:
                winner = _better(kind, winner, c)
            stretches.append((start, end, winner))
    return stretches


def _instants(kind: str, items: list[Constraint]) -> list[Segment]:
    best: dict[datetime, Constraint] = {}
    for c in items:
        best[c.start] = _better(kind, best[c.start], c) if c.start in best else c
    return [Segment(at, at, c.value) for at, c in sorted(best.items())]


def _merge(slots: list[tuple[datetime, float]], resolution: timedelta) -> list[Segment]:
    segments: list[Segment] = []
    for start, value in slots:
        last = segments[-1] if segments else None
        if last is not None and last.end == start and last.value == value:
            segments[-1] = Segment(last.start, start + resolution, value)
        else:
            segments.append(Segment(start, start + resolution, value))
    return segments
