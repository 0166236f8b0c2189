"""A settlement statement as CSV (its lines, then the totals) — the download and `cariflex settlement show`."""

import csv
import io
from typing import Any

from mapping.curtailment.settlement import LINE_COLUMNS
from vtn.csv_export import safe_values

#: the statement's facts, repeated on every row so that one row can be read alone
HEAD_COLUMNS = ("statement_id", "content_hash", "scope", "period_start", "period_end")


def statement_csv(document: dict[str, Any]) -> str:
    """CSV: one row per line (HEAD_COLUMNS then the line's), then a `total` row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEAD_COLUMNS + LINE_COLUMNS)
    head = (
        document["statement_id"],
        document["content_hash"],
        f"{document['scope']['kind']} {document['scope']['key']}",
        document["period"]["start"],
        document["period"]["end"],
    )
    for line in document["lines"]:
        writer.writerow(safe_values(head + tuple("" if line[c] is None else line[c] for c in LINE_COLUMNS)))
    totals = document["totals"]
    total_row = {c: "" for c in LINE_COLUMNS} | {
        "event_id": "*",
        "site": "total",
        "status": "final" if totals["final"] else "provisional",
    }
    total_row |= {k: totals[k] for k in ("requested_kwh", "delivered_kwh", "shortfall_kwh", "missing_intervals")}
    writer.writerow(safe_values(head + tuple(total_row[c] for c in LINE_COLUMNS)))
    return out.getvalue()
