"""What our 2.0b VENs reported during an upstream event, as an OpenADR 3 report.

One report per (event, VEN that received it): one resource per 2.0b rID, one interval per stored
report point inside the event's window. 2.0b report types become 3.x payload types (usage → USAGE,
demand → DEMAND, baseline → BASELINE, …; others keep their name, upper-cased). Payload descriptors
carry no objectType in 3.0.1 (ElaadNL's client refuses it there); 3.1's schema requires it.
"""

import hashlib
from datetime import datetime
from typing import Any

from mapping.openadr3 import shapes, wire

REPORT_TYPES = {
    "usage": "USAGE",
    "demand": "DEMAND",
    "baseline": "BASELINE",
    "deltaUsage": "DELTA_USAGE",
    "deltaDemand": "DELTA_DEMAND",
    "storedEnergy": "STORAGE_CHARGE_LEVEL",
    "x-resourceStatus": "OPERATING_STATE",
    "x-curtailment": "CURTAILMENT",
}
READING_TYPES = {
    "Direct Read": "DIRECT_READ",
    "Net": "DIRECT_READ",
    "Estimated": "ESTIMATED",
    "Summed": "SUMMED",
    "Mean": "AVERAGE",
    "Projected": "FORECAST",
    "x-notApplicable": "DIRECT_READ",
}


def report_id(event_id: str, ven_id: str) -> str:
    """The id of the report of one VEN for one event (stable, an objectID)."""
    return "rpt-" + hashlib.sha256(f"{event_id}\0{ven_id}".encode()).hexdigest()[:24]


def payload_type(report_type: str) -> str:
    """The 3.x payload type of a 2.0b report type."""
    return REPORT_TYPES.get(report_type, report_type.upper()[:128] or "USAGE")


def build_report(
    *,
    event_id: str,
    program_id: str,
    ven_id: str,
    ven_name: str,
    points: list[dict[str, Any]],
    report_types: dict[str, str],
    created: datetime,
    version: str,
) -> dict[str, Any]:
    """The 3.x report of one VEN's points (rows of `vtn.store.report_repository.points`) for one event."""
    resources: dict[str, list[dict[str, Any]]] = {}
    descriptors: dict[str, dict[str, Any]] = {}
    names = set()
    for point in points:
        kind = payload_type(report_types.get(point["r_id"], "usage"))
        names.add(point["report_name"])
        reading = READING_TYPES.get(point.get("reading_type") or "", "DIRECT_READ")
        descriptors.setdefault(kind, {"payloadType": kind, "readingType": reading})
        intervals = resources.setdefault(point["r_id"][:128], [])
        period = {"start": point["dtstart"], "duration": wire.out_duration_seconds(point.get("duration_s") or 0)}
        intervals.append(
            {"id": len(intervals), "intervalPeriod": period, "payloads": [{"type": kind, "values": [point["value"]]}]}
        )
    report: dict[str, Any] = {
        "id": report_id(event_id, ven_id),
        "createdDateTime": wire.out_time(created),
        "modificationDateTime": wire.out_time(created),
        "objectType": "REPORT",
        "eventID": event_id,
        "clientName": ven_name[:128],
        "reportName": ", ".join(sorted(names)) or "no data reported",
        "payloadDescriptors": shapes.descriptors_out(list(descriptors.values()), version, "REPORT_PAYLOAD_DESCRIPTOR"),
        "resources": [{"resourceName": name or "AGGREGATED_REPORT", "intervals": iv} for name, iv in resources.items()],
    }
    if version == "3.0.1":
        report["programID"] = program_id
    else:
        report["clientID"] = ven_id[:128]
    return report
