"""Result rows of the poll benchmark: table printing and JSON output."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REFERENCE = "openleadr"


@dataclass
class CaseResult:
    """One (target, case) measurement, or the error that prevented it."""

    target: str
    case: str
    rps: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    non_2xx: int | None = None
    unexpected: int | None = None
    socket_errors: int | None = None
    requests: int | None = None
    rss_mb: float | None = None
    error: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def _ratio(ours: float | None, ref: float | None) -> float | None:
    if ours is None or not ref:
        return None
    return ours / ref


def add_ratios(results: list[CaseResult]) -> dict[tuple[str, str], dict]:
    """Ratios ours/openleadr of req/s and p99 per (target, case)."""
    refs = {r.case: r for r in results if r.target == REFERENCE and not r.error}
    ratios: dict[tuple[str, str], dict] = {}
    for row in results:
        ref = refs.get(row.case)
        if row.target == REFERENCE or ref is None or row.error:
            continue
        ratios[(row.target, row.case)] = {
            "rps_ratio": _ratio(row.rps, ref.rps),
            "p99_ratio": _ratio(row.p99_ms, ref.p99_ms),
        }
    return ratios


def _fmt(value: float | int | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


_COLUMNS = [("target", 16), ("case", 14), ("req/s", 9), ("p50 ms", 8), ("p99 ms", 8), ("non-2xx", 8)]
_COLUMNS += [("bad body", 8), ("errors", 8), ("RSS MB", 7), ("req/s x", 8), ("p99 x", 7)]


def format_table(results: list[CaseResult]) -> str:
    """Render the result table; ``x`` columns are ours/openleadr ratios."""
    ratios = add_ratios(results)
    lines = ["  ".join(f"{name:>{width}}" for name, width in _COLUMNS)]
    lines.append("  ".join("-" * width for _, width in _COLUMNS))
    for row in results:
        if row.error:
            head = f"{row.target:>16}  {row.case:>14}"
            lines.append(f"{head}  FAILED: {row.error.splitlines()[0][:120]}")
            continue
        ratio = ratios.get((row.target, row.case), {})
        cells = [
            row.target,
            row.case,
            _fmt(row.rps, ".0f"),
            _fmt(row.p50_ms, ".2f"),
            _fmt(row.p99_ms, ".2f"),
            _fmt(row.non_2xx, "d"),
            _fmt(row.unexpected, "d"),
            _fmt(row.socket_errors, "d"),
            _fmt(row.rss_mb, ".0f"),
            _fmt(ratio.get("rps_ratio"), ".2f"),
            _fmt(ratio.get("p99_ratio"), ".2f"),
        ]
        lines.append("  ".join(f"{c:>{w}}" for c, (_, w) in zip(cells, _COLUMNS, strict=True)))
    return "\n".join(lines)


def write_json(path: Path, results: list[CaseResult], meta: dict[str, Any]) -> None:
    """Write settings, rows and ratios as JSON."""
    ratios = add_ratios(results)
    rows = []
    for row in results:
        data = asdict(row)
        data.update(ratios.get((row.target, row.case), {}))
        rows.append(data)
    path.write_text(json.dumps({"meta": meta, "results": rows}, indent=2) + "\n")
