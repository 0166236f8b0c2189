"""Report profiles: how a VEN shapes the reports it offers and sends for the VTN it talks to. Pure.

`standard` is 2.0b as the schema allows it. `openleadr` fits a stock openleadr 0.5.x VTN, which answers HTTP 500
to an oadrUpdateReport whose interval carries more than one oadrReportPayload (it reads `report_payload` as one
dict per interval) and to an oadrPayloadResourceStatus (it reads a float `value` from every payload): so every
interval carries one float payload, and no resource-status report is offered (it would be requested, then
refused). Both remain valid 2.0b: several intervals may share a dtstart.
"""

from dataclasses import replace
from enum import StrEnum

from mapping.oadr.report_model import ReportData, ReportMetadata


class ReportProfile(StrEnum):
    """The report shapes a VEN uses (`[reports] profile` in ven.toml)."""

    STANDARD = "standard"
    OPENLEADR = "openleadr"


#: the reportType of a description whose payloads are oadrPayloadResourceStatus
RESOURCE_STATUS_TYPE = "x-resourceStatus"


def offered_reports(reports: tuple[ReportMetadata, ...], profile: ReportProfile) -> tuple[ReportMetadata, ...]:
    """The reports to register under `profile`: all of them, or (openleadr) those without resource-status data."""
    if profile is ReportProfile.STANDARD:
        return reports
    kept = []
    for report in reports:
        descriptions = tuple(d for d in report.descriptions if d.report_type != RESOURCE_STATUS_TYPE)
        if descriptions:
            kept.append(replace(report, descriptions=descriptions))
    return tuple(kept)


def shaped_report(report: ReportData, profile: ReportProfile) -> ReportData:
    """`report` as sent under `profile`: unchanged, or (openleadr) one float payload per interval — an interval
    with several payloads becomes one interval per payload at the same dtstart, status payloads are left out."""
    if profile is ReportProfile.STANDARD:
        return report
    intervals = [
        replace(interval, payloads=(payload,))
        for interval in report.intervals
        for payload in interval.payloads
        if payload.status is None
    ]
    numbered = tuple(replace(interval, uid=str(uid)) for uid, interval in enumerate(intervals))
    return replace(report, intervals=numbered)
