"""Output of the report benchmark: the latency table, the values account, the verdicts."""

from __future__ import annotations

import os
from dataclasses import asdict
from typing import Any

import report
from report_phases import Ledger

TARGET_RATE = 1000.0
TARGET_P99_MS = 100.0
_LEDGER_COLUMNS = [("target", 16), ("case", 14), ("prepared", 8), ("sent", 8), ("acked", 8), ("kept", 8)]
_LEDGER_COLUMNS += [("missing", 8), ("extra", 6), ("re-sent", 8), ("VTN CPU%", 8)]


def load_average(label: str) -> str:
    """``label: 1/5/15-minute load average``."""
    one, five, fifteen = os.getloadavg()
    return f"{label}: {one:.2f} {five:.2f} {fifteen:.2f}"


def ledger_dict(ledger: Ledger) -> dict[str, Any]:
    """A ledger with its derived counts, for JSON."""
    derived = ("sent_values", "expected", "missing", "extra")
    return {**asdict(ledger), **{name: getattr(ledger, name) for name in derived}}


def format_ledgers(ledgers: list[Ledger]) -> str:
    """Values acknowledged (3 per oadrUpdatedReport 200) vs values the VTN kept, per phase."""
    lines = ["  ".join(f"{name:>{width}}" for name, width in _LEDGER_COLUMNS)]
    lines.append("  ".join("-" * width for _, width in _LEDGER_COLUMNS))
    for x in ledgers:
        cpu = "-" if x.vtn_cpu_pct is None else f"{x.vtn_cpu_pct:.0f}"
        cells = [x.target, x.case, x.bodies, x.sent_values, x.expected, x.stored, x.missing, x.extra, x.maybe_resent, cpu]
        lines.append("  ".join(f"{c!s:>{w}}" for c, (_, w) in zip(cells, _LEDGER_COLUMNS, strict=True)))
    return "\n".join(lines)


def verdict(target: str, results: list[report.CaseResult], ledgers: list[Ledger]) -> str:
    """Whether ``target`` met 1,000 reports/s sustained with p99 < 100 ms, nothing lost or refused."""
    rows = [r for r in results if r.target == target]
    if any(r.error for r in rows):
        return f"{target}: not measured (failed)"
    closed = next((r for r in rows if r.case == "closed wrk"), None)
    fixed = next((r for r in rows if r.case.startswith("fixed")), None)
    misses = []
    if closed is None or (closed.rps or 0) < TARGET_RATE:
        misses.append(f"sustained {closed.rps if closed else 0:.0f}/s < {TARGET_RATE:.0f}/s")
    if fixed is None or fixed.p99_ms is None or fixed.p99_ms >= TARGET_P99_MS:
        misses.append(f"p99 {fixed.p99_ms if fixed and fixed.p99_ms else float('nan'):.1f} ms >= {TARGET_P99_MS:.0f} ms")
    if fixed is not None and fixed.detail.get("target_rate") and (fixed.rps or 0) < 0.98 * fixed.detail["target_rate"]:
        misses.append(f"fixed-rate case achieved only {fixed.rps:.0f}/s")
    failed = sum((r.non_2xx or 0) + (r.unexpected or 0) + (r.socket_errors or 0) for r in rows)
    if failed:
        misses.append(f"{failed} requests failed or were answered badly")
    missing = sum(x.missing for x in ledgers if x.target == target)
    if missing:
        misses.append(f"{missing} acknowledged values not kept")
    if not misses:
        return f"{target}: MEETS the target (>= {TARGET_RATE:.0f} reports/s, p99 < {TARGET_P99_MS:.0f} ms, nothing lost)"
    return f"{target}: MISSES the target: " + "; ".join(misses)


def summary(results: list[report.CaseResult], ledgers: list[Ledger], notes: list[str], loads: list[str], elapsed: float) -> str:
    """Everything printed at the end of a run."""
    names = list(dict.fromkeys(r.target for r in results))
    parts = [
        report.format_table(results),
        "req/s: reports/s answered; x columns: ours/openleadr. bad body: 2xx that is not oadrUpdatedReport with",
        "responseCode 200. errors: connect/read/write errors, timeouts, (fixed rate) requests not sent because",
        "too many were outstanding. RSS: VTN process tree right after the case.",
        "",
        "prepared: distinct report bodies built for the case (reports); the other counts are report values",
        "(3 per report). sent: in reports put on the wire (wrk: answered ones; fixed rate: all but those not",
        "sent); acked: in oadrUpdatedReport 200 answers; kept: new report_point rows (ours) or values handed",
        "to the report callbacks (openleadr); missing: acked but not kept (must be 0); extra: kept but not",
        "acked (in flight or timed out when the client stopped waiting); re-sent: bodies wrk may have sent",
        "twice (a duplicate is answered 'already stored' and not stored twice).",
        "VTN CPU%: CPU time of the VTN process tree / wall time of the case (100 = one core busy).",
        format_ledgers(ledgers),
        "",
        *[verdict(name, results, ledgers) for name in names],
        *[f"note: {note}" for note in notes],
        f"load average (1/5/15 min) {'; '.join(loads)}; run took {elapsed:.0f}s",
    ]
    return "\n".join(parts)
