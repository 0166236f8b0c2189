"""Load curves as meter operators deliver them: CSV text → mean-power steps per delivery point. Pure.

Two shapes are read, told apart by their header (names are matched without case or accents):

* **Cariflex** — `delivery_point,start,step,power_kw[,quality]` (or `power_w`): `start` is the beginning
  of the step, ISO 8601 with its UTC offset; `step` an ISO 8601 duration (PT5M, PT10M, PT15M, PT30M,
  PT1H); power the mean active power over the step, import positive, export negative; `quality`
  `measured` (the default) or `estimated`.
* **Enedis-style** — `Identifiant PRM;…;Horodate;Valeur;…;Pas[;Unité][;Nature]`, as French meter operators
  publish load curves: `Horodate` is the END of the step (the operator stamps an average when it is
  complete), `Valeur` in W unless `Unité` says kW, `Pas` PT10M or PT30M; `Nature` `E` (estimé) marks an
  estimate. A decimal comma is read in semicolon files.

Every refusal names the line and the column, so a file can be fixed where it is wrong: a time without
offset, an unknown step, a value that is not a finite number (or beyond 1 GW), two values for one
moment of one delivery point.
"""

import csv
import io
import math
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from mapping.curtailment._common import CurtailmentRefused
from mapping.curtailment.resampling import MeterStep

#: the steps meter operators use (a step must divide the hour, so steps tile the 15-minute grid predictably)
STEPS = tuple(timedelta(minutes=m) for m in (5, 10, 15, 30, 60))
#: a delivery point's power beyond this (kW) is a unit or typing error
MAX_KW = 1_000_000.0
_DELIVERY_POINT = ("delivery_point", "identifiant_prm", "prm", "pdl", "point_de_livraison")
_STEP_STARTS, _STEP_ENDS = ("start",), ("horodate",)
_STEP = ("step", "pas")
_POWER_KW, _POWER_W, _VALUE, _UNIT = ("power_kw",), ("power_w",), ("valeur",), ("unite",)
_QUALITY = ("quality", "nature")
_ESTIMATED = {"estimated", "e", "estime", "estimee"}
_MEASURED = {"", "measured", "r", "reel", "reelle", "c", "corrige", "b", "brut"}


class MeterFileRefused(CurtailmentRefused):
    """A load-curve file that cannot be read: `field` is `line N, column`, `reason` what is wrong there."""


def _key(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "_".join(plain.strip().lower().replace("-", " ").split())


def _column(header: list[str], names: Iterable[str]) -> int | None:
    keys = [_key(h) for h in header]
    return next((keys.index(n) for n in names if n in keys), None)


def _step(text: str, where: str) -> timedelta:
    plain = text.strip().upper()
    minutes = plain[2:-1] if plain.startswith("PT") and plain.endswith("M") else None
    if plain in ("PT1H", "PT60M"):
        minutes = "60"
    if minutes is None or not minutes.isdigit() or timedelta(minutes=int(minutes)) not in STEPS:
        raise MeterFileRefused(
            where, f"{text!r} is not a step of {', '.join(f'PT{int(s.total_seconds()) // 60}M' for s in STEPS)}"
        )
    return timedelta(minutes=int(minutes))


def _moment(text: str, where: str) -> datetime:
    value = text.strip()
    try:
        parsed = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value)
    except ValueError:
        raise MeterFileRefused(where, f"{text!r} is not an ISO 8601 date-time such as 2026-11-26T18:00:00-04:00") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise MeterFileRefused(where, f"{text!r} has no UTC offset (write it as 2026-11-26T18:00:00-04:00 or …Z)")
    return parsed


def _number(text: str, where: str, decimal_comma: bool) -> float:
    plain = text.strip().replace(",", ".") if decimal_comma else text.strip()
    try:
        value = float(plain)
    except ValueError:
        raise MeterFileRefused(where, f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise MeterFileRefused(where, f"{text!r} is not a finite number")
    return value


class _Layout:
    """Where each field is in a header, and what the time and power columns mean."""

    def __init__(self, header: list[str]) -> None:
        self.header = header
        found = {"delivery point": _column(header, _DELIVERY_POINT), "step": _column(header, _STEP)}
        self.start, self.end = _column(header, _STEP_STARTS), _column(header, _STEP_ENDS)
        self.kw, self.w, self.value = _column(header, _POWER_KW), _column(header, _POWER_W), _column(header, _VALUE)
        self.unit, self.quality = _column(header, _UNIT), _column(header, _QUALITY)
        missing = [name for name, index in found.items() if index is None]
        if self.start is None and self.end is None:
            missing.append("time (start, or Horodate: the end of the step)")
        if self.kw is None and self.w is None and self.value is None:
            missing.append("power (power_kw, power_w or Valeur)")
        if missing:
            raise MeterFileRefused("line 1", f"no column for the {', '.join(missing)}; the header has {', '.join(header)}")
        self.delivery_point, self.step = found["delivery point"], found["step"]

    def name(self, index: int) -> str:
        return self.header[index].strip()


def _kw(row: list[str], layout: _Layout, line: int, decimal_comma: bool) -> float:
    if layout.kw is not None:
        kw = _number(row[layout.kw], f"line {line}, {layout.name(layout.kw)}", decimal_comma)
    elif layout.w is not None:
        kw = _number(row[layout.w], f"line {line}, {layout.name(layout.w)}", decimal_comma) / 1000
    else:
        assert layout.value is not None
        unit = _key(row[layout.unit]) if layout.unit is not None else "w"
        if unit not in ("w", "kw"):
            raise MeterFileRefused(f"line {line}, {layout.name(layout.unit or 0)}", f"{row[layout.unit or 0]!r}: W or kW")
        value = _number(row[layout.value], f"line {line}, {layout.name(layout.value)}", decimal_comma)
        kw = value if unit == "kw" else value / 1000
    if abs(kw) > MAX_KW:
        column = next(i for i in (layout.kw, layout.w, layout.value) if i is not None)
        raise MeterFileRefused(f"line {line}, {layout.name(column)}", f"{kw:g} kW is beyond any delivery point (a unit error?)")
    return kw


def _estimated(row: list[str], layout: _Layout, line: int) -> bool:
    if layout.quality is None:
        return False
    text = _key(row[layout.quality])
    if text in _ESTIMATED:
        return True
    if text in _MEASURED:
        return False
    raise MeterFileRefused(
        f"line {line}, {layout.name(layout.quality)}", f"{row[layout.quality]!r}: measured or estimated (R or E)"
    )


def parse_load_curves(text: str) -> dict[str, tuple[MeterStep, ...]]:
    """The steps of each delivery point in a load-curve file, in time order (module docstring: the two shapes)."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or not lines[0].strip():
        raise MeterFileRefused("line 1", "the file is empty: a header line is expected")
    delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
    rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter))
    layout = _Layout(rows[0])
    curves: dict[str, dict[datetime, tuple[MeterStep, int]]] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(rows[0]):
            raise MeterFileRefused(f"line {line}", f"{len(row)} fields where the header has {len(rows[0])}")
        point = row[layout.delivery_point].strip()
        if not point or len(point) > 64:
            raise MeterFileRefused(f"line {line}, {layout.name(layout.delivery_point)}", "a delivery point id of 1–64 characters")
        step = _step(row[layout.step], f"line {line}, {layout.name(layout.step)}")
        if layout.start is not None:
            start = _moment(row[layout.start], f"line {line}, {layout.name(layout.start)}")
        else:
            assert layout.end is not None
            start = _moment(row[layout.end], f"line {line}, {layout.name(layout.end)}") - step
        reading = MeterStep(start, start + step, _kw(row, layout, line, delimiter == ";"), _estimated(row, layout, line))
        seen = curves.setdefault(point, {})
        if start in seen:
            raise MeterFileRefused(
                f"line {line}", f"{point} already has a step starting {start.isoformat()} (line {seen[start][1]})"
            )
        seen[start] = (reading, line)
    result = {}
    for point, steps in curves.items():
        ordered = sorted(steps.values(), key=lambda item: item[0].start)
        for (before, _), (after, line) in zip(ordered, ordered[1:], strict=False):
            if after.start < before.end:
                raise MeterFileRefused(
                    f"line {line}", f"{point}: this step starts {after.start.isoformat()}, inside the one before"
                )
        result[point] = tuple(step for step, _ in ordered)
    return result


def format_load_curves(curves: Mapping[str, Sequence[MeterStep]]) -> str:
    """The Cariflex CSV shape of `curves` (what `parse_load_curves` reads back): start in UTC, step in minutes, kW."""
    lines = ["delivery_point,start,step,power_kw,quality"]
    for point, steps in curves.items():
        for step in steps:
            minutes = round((step.end - step.start).total_seconds() / 60)
            start = step.start.astimezone(UTC).isoformat().replace("+00:00", "Z")
            quality = "estimated" if step.estimated else "measured"
            lines.append(f"{point},{start},PT{minutes}M,{step.kw:.4f},{quality}")
    return "\n".join(lines) + "\n"
