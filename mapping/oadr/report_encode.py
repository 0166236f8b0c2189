"""EiReport and EiOpt messages: the typed models of `report_model` → XML, in XSD order."""

from datetime import timedelta

from lxml import etree

from mapping.oadr import parts
from mapping.oadr import report_model as r
from mapping.oadr.namespaces import EI, EMIX, OADR, PYLD, STRM, XCAL
from mapping.oadr.timefmt import format_duration, wire_datetime
from mapping.oadr.xmltools import (
    format_number,
    sub,
    sub_duration,
)

# --- encoding -------------------------------------------------------------------------------


def _encode_description(parent: etree._Element, d: r.ReportDescription) -> None:
    el = sub(parent, OADR, "oadrReportDescription")
    sub(el, EI, "rID", d.r_id)
    if d.data_source:
        source = sub(el, EI, "reportDataSource")
        for resource in d.data_source:
            sub(source, EI, "resourceID", resource)
    sub(el, EI, "reportType", d.report_type)
    if d.unit is not None:
        parts.encode_unit(el, d.unit)
    sub(el, EI, "readingType", d.reading_type)
    if d.market_context:
        sub(el, EMIX, "marketContext", d.market_context)
    if d.sampling is not None:
        rate = sub(el, OADR, "oadrSamplingRate")
        sub(rate, OADR, "oadrMinPeriod", format_duration(d.sampling.min_period))
        sub(rate, OADR, "oadrMaxPeriod", format_duration(d.sampling.max_period))
        sub(rate, OADR, "oadrOnChange", "true" if d.sampling.on_change else "false")


def _encode_metadata(parent: etree._Element, report: r.ReportMetadata) -> None:
    el = sub(parent, OADR, "oadrReport")
    if report.duration is not None:
        sub_duration(el, XCAL, "duration", report.duration)
    for d in report.descriptions:
        _encode_description(el, d)
    sub(el, EI, "reportRequestID", report.report_request_id)
    sub(el, EI, "reportSpecifierID", report.report_specifier_id)
    sub(el, EI, "reportName", report.report_name)
    sub(el, EI, "createdDateTime", wire_datetime(report.created))


def encode_report_request(parent: etree._Element, req: r.ReportRequest) -> None:
    """Append an oadrReportRequest; a reportInterval is always sent (VENs in the field need one)."""
    el = sub(parent, OADR, "oadrReportRequest")
    sub(el, EI, "reportRequestID", req.report_request_id)
    spec = sub(el, EI, "reportSpecifier")
    sub(spec, EI, "reportSpecifierID", req.report_specifier_id)
    sub_duration(spec, XCAL, "granularity", req.granularity)
    sub_duration(spec, EI, "reportBackDuration", req.report_back)
    if req.interval_start is not None:
        props = sub(sub(spec, EI, "reportInterval"), XCAL, "properties")
        sub(sub(props, XCAL, "dtstart"), XCAL, "date-time", wire_datetime(req.interval_start))
        sub_duration(props, XCAL, "duration", req.interval_duration or timedelta(0))
    for p in req.payloads:
        payload = sub(spec, EI, "specifierPayload")
        sub(payload, EI, "rID", p.r_id)
        sub(payload, EI, "readingType", p.reading_type)


def _encode_status(parent: etree._Element, status: r.ResourceStatus) -> None:
    el = sub(parent, OADR, "oadrPayloadResourceStatus")
    sub(el, OADR, "oadrOnline", "true" if status.online else "false")
    sub(el, OADR, "oadrManualOverride", "true" if status.manual_override else "false")
    if status.load_control:
        state = sub(el, OADR, "oadrLoadControlState")
        for kind in ("capacity", "levelOffset", "percentOffset", "setPoint"):
            values = status.load_control.get(kind)
            if values is None:
                continue
            kind_el = sub(state, OADR, "oadr" + kind[:1].upper() + kind[1:])
            for key in ("min", "max", "current", "normal"):
                if key in values:
                    sub(kind_el, OADR, "oadr" + key.capitalize(), format_number(values[key]))


def _encode_report_data(parent: etree._Element, report: r.ReportData) -> None:
    el = sub(parent, OADR, "oadrReport")
    if report.dtstart is not None:
        sub(sub(el, XCAL, "dtstart"), XCAL, "date-time", wire_datetime(report.dtstart))
    if report.duration is not None:
        sub_duration(el, XCAL, "duration", report.duration)
    intervals = sub(el, STRM, "intervals") if report.intervals else None
    for interval in report.intervals:
        i_el = sub(intervals, EI, "interval")
        if interval.dtstart is not None:
            sub(sub(i_el, XCAL, "dtstart"), XCAL, "date-time", wire_datetime(interval.dtstart))
        if interval.duration is not None:
            sub_duration(i_el, XCAL, "duration", interval.duration)
        if interval.uid is not None:
            sub(sub(i_el, XCAL, "uid"), XCAL, "text", interval.uid)
        for p in interval.payloads:
            p_el = sub(i_el, OADR, "oadrReportPayload")
            sub(p_el, EI, "rID", p.r_id)
            if p.confidence is not None:
                sub(p_el, EI, "confidence", str(p.confidence))
            if p.accuracy is not None:
                sub(p_el, EI, "accuracy", format_number(p.accuracy))
            if p.status is not None:
                _encode_status(p_el, p.status)
            else:
                sub(sub(p_el, EI, "payloadFloat"), EI, "value", format_number(p.value or 0.0))
            if p.data_quality:
                sub(p_el, OADR, "oadrDataQuality", p.data_quality)
    if report.report_id:
        sub(el, EI, "eiReportID", report.report_id)
    sub(el, EI, "reportRequestID", report.report_request_id)
    sub(el, EI, "reportSpecifierID", report.report_specifier_id)
    if report.report_name:
        sub(el, EI, "reportName", report.report_name)
    sub(el, EI, "createdDateTime", wire_datetime(report.created))


def _encode_cancel(el: etree._Element, msg: r.CancelReport) -> None:
    sub(el, PYLD, "requestID", msg.request_id)
    for request_id in msg.report_request_ids:
        sub(el, EI, "reportRequestID", request_id)
    sub(el, PYLD, "reportToFollow", "true" if msg.report_to_follow else "false")
    if msg.ven_id:
        sub(el, EI, "venID", msg.ven_id)


def fill(el: etree._Element, msg: r.ReportMessage) -> None:
    """Write the children of message element `el` for `msg`, in XSD order."""
    if isinstance(msg, r.RegisterReport):
        sub(el, PYLD, "requestID", msg.request_id)
        for report in msg.reports:
            _encode_metadata(el, report)
        if msg.ven_id:
            sub(el, EI, "venID", msg.ven_id)
        if msg.report_request_id:
            sub(el, EI, "reportRequestID", msg.report_request_id)
    elif isinstance(msg, r.RegisteredReport):
        parts.encode_response(el, msg.response)
        for req in msg.report_requests:
            encode_report_request(el, req)
        sub(el, EI, "venID", msg.ven_id)
    elif isinstance(msg, r.CreateReport):
        sub(el, PYLD, "requestID", msg.request_id)
        for req in msg.report_requests:
            encode_report_request(el, req)
        if msg.ven_id:
            sub(el, EI, "venID", msg.ven_id)
    elif isinstance(msg, r.CancelReport):
        _encode_cancel(el, msg)
    elif isinstance(msg, r.UpdateReport):
        sub(el, PYLD, "requestID", msg.request_id)
        for report in msg.reports:
            _encode_report_data(el, report)
        if msg.ven_id:
            sub(el, EI, "venID", msg.ven_id)
    elif isinstance(msg, r.UpdatedReport):
        parts.encode_response(el, msg.response)
        if msg.cancel is not None:
            _encode_cancel(sub(el, OADR, "oadrCancelReport"), msg.cancel)
        sub(el, EI, "venID", msg.ven_id)
    elif isinstance(msg, r.CreateOpt):
        sub(el, EI, "optID", msg.opt_id)
        sub(el, EI, "optType", msg.opt_type)
        sub(el, EI, "optReason", msg.opt_reason)
        if msg.market_context:
            sub(el, EMIX, "marketContext", msg.market_context)
        sub(el, EI, "venID", msg.ven_id)
        if msg.windows:
            components = sub(sub(el, XCAL, "vavailability"), XCAL, "components")
            for start, duration in msg.windows:
                props = sub(sub(components, XCAL, "available"), XCAL, "properties")
                sub(sub(props, XCAL, "dtstart"), XCAL, "date-time", wire_datetime(start))
                sub_duration(props, XCAL, "duration", duration)
        sub(el, EI, "createdDateTime", wire_datetime(msg.created))
        sub(el, PYLD, "requestID", msg.request_id)
        if msg.event_id is not None:
            qualified = sub(el, EI, "qualifiedEventID")
            sub(qualified, EI, "eventID", msg.event_id)
            sub(qualified, EI, "modificationNumber", str(msg.modification_number or 0))
        parts.encode_target(el, msg.target)
    elif isinstance(msg, r.CancelOpt):
        sub(el, PYLD, "requestID", msg.request_id)
        sub(el, EI, "optID", msg.opt_id)
        sub(el, EI, "venID", msg.ven_id)
    else:
        raise TypeError(f"not a report or opt message: {type(msg).__name__}")


ELEMENT_NAMES: dict[type, str] = {
    r.RegisterReport: "oadrRegisterReport",
    r.RegisteredReport: "oadrRegisteredReport",
    r.CreateReport: "oadrCreateReport",
    r.CancelReport: "oadrCancelReport",
    r.UpdateReport: "oadrUpdateReport",
    r.UpdatedReport: "oadrUpdatedReport",
    r.CreateOpt: "oadrCreateOpt",
    r.CancelOpt: "oadrCancelOpt",
}
