"""Report and opt messages a test VEN sends."""

from datetime import UTC, datetime, timedelta

from mapping.oadr import model as m
from mapping.oadr import report_model as r
from mapping.oadr.vocabulary import power_kw

NOW = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)
USAGE_RIDS = ("site-power", "pv-power", "battery-power")


def usage_metadata(specifier: str = "usage-spec") -> r.ReportMetadata:
    """METADATA_TELEMETRY_USAGE with three power rIDs."""
    return r.ReportMetadata(
        report_specifier_id=specifier,
        report_name="METADATA_TELEMETRY_USAGE",
        created=NOW,
        duration=timedelta(hours=1),
        descriptions=tuple(
            r.ReportDescription(
                r_id=rid,
                report_type="usage",
                reading_type="Direct Read",
                unit=power_kw(),
                sampling=r.SamplingRate(timedelta(minutes=1), timedelta(minutes=15)),
            )
            for rid in USAGE_RIDS
        ),
    )


def status_metadata() -> r.ReportMetadata:
    """METADATA_TELEMETRY_STATUS with one status rID."""
    return r.ReportMetadata(
        report_specifier_id="status-spec",
        report_name="METADATA_TELEMETRY_STATUS",
        created=NOW,
        descriptions=(r.ReportDescription(r_id="site-status", report_type="x-resourceStatus", reading_type="x-notApplicable"),),
    )


def register_reports(ven_id: str, *reports: r.ReportMetadata) -> r.RegisterReport:
    """oadrRegisterReport from a VEN."""
    return r.RegisterReport(request_id="rr-req", reports=reports or (usage_metadata(),), ven_id=ven_id)


def update(
    ven_id: str,
    request: r.ReportRequest,
    values: list[list[float]],
    *,
    start: datetime = NOW,
    step: timedelta = timedelta(minutes=1),
    first_only_dtstart: bool = False,
    rids: tuple[str, ...] = USAGE_RIDS,
    request_id: str = "upd-1",
) -> r.UpdateReport:
    """oadrUpdateReport: one interval per row of `values`, one payload per rID."""
    intervals = tuple(
        r.ReportInterval(
            dtstart=None if first_only_dtstart else start + i * step,
            duration=step,
            uid=str(i),
            payloads=tuple(r.ReportPayload(r_id=rid, value=v) for rid, v in zip(rids, row, strict=True)),
        )
        for i, row in enumerate(values)
    )
    report = r.ReportData(
        report_request_id=request.report_request_id,
        report_specifier_id=request.report_specifier_id,
        report_name="TELEMETRY_USAGE",
        created=NOW,
        intervals=intervals,
        dtstart=start if first_only_dtstart else None,
        duration=step * len(values),
    )
    return r.UpdateReport(request_id=request_id, reports=(report,), ven_id=ven_id)


def opt_schedule(ven_id: str, opt_id: str, start: datetime, length: timedelta, opt_type: str = "optOut") -> r.CreateOpt:
    """oadrCreateOpt with one availability window."""
    return r.CreateOpt(
        opt_id=opt_id,
        opt_type=opt_type,
        opt_reason="x-schedule",
        ven_id=ven_id,
        created=NOW,
        request_id=f"req-{opt_id}",
        windows=((start, length),),
        target=m.Target(ven_ids=(ven_id,)),
    )


def opt_event(ven_id: str, opt_id: str, event: m.Event, opt_type: str = "optOut") -> r.CreateOpt:
    """oadrCreateOpt on one event."""
    return r.CreateOpt(
        opt_id=opt_id,
        opt_type=opt_type,
        opt_reason="participating" if opt_type == "optIn" else "notParticipating",
        ven_id=ven_id,
        created=NOW,
        request_id=f"req-{opt_id}",
        event_id=event.event_id,
        modification_number=event.modification_number,
        target=m.Target(ven_ids=(ven_id,)),
    )
