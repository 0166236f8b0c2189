"""EiReport and EiOpt messages: XML ↔ the typed models of `report_model`."""

from collections.abc import Callable
from datetime import timedelta

from lxml import etree

from mapping.oadr import model as m
from mapping.oadr import parts
from mapping.oadr import report_model as r
from mapping.oadr.codes import OadrError, ResponseCode
from mapping.oadr.namespaces import EI, EMIX, NSMAP, OADR, PYLD, STRM, XCAL
from mapping.oadr.timefmt import format_datetime, format_duration, parse_datetime, parse_duration
from mapping.oadr.xmltools import (
    boolean,
    format_number,
    number,
    optional_datetime,
    optional_duration,
    required,
    sub,
    sub_duration,
    text,
)

# --- decoding -------------------------------------------------------------------------------


def _description(element: etree._Element) -> r.ReportDescription:
    sampling = element.find("oadr:oadrSamplingRate", NSMAP)
    return r.ReportDescription(
        r_id=required(element, "ei:rID"),
        report_type=required(element, "ei:reportType"),
        reading_type=required(element, "ei:readingType"),
        unit=parts.decode_unit(element),
        market_context=text(element, "emix:marketContext"),
        data_source=tuple(
            (t or "").strip()
            for t in element.xpath(
                "ei:reportDataSource//ei:resourceID/text() | ei:reportDataSource//power:mrid/text()", namespaces=NSMAP
            )
        ),
        sampling=r.SamplingRate(
            min_period=parse_duration(required(sampling, "oadr:oadrMinPeriod")),
            max_period=parse_duration(required(sampling, "oadr:oadrMaxPeriod")),
            on_change=boolean(text(sampling, "oadr:oadrOnChange")),
        )
        if sampling is not None
        else None,
    )


def _metadata(element: etree._Element) -> r.ReportMetadata:
    return r.ReportMetadata(
        report_specifier_id=required(element, "ei:reportSpecifierID"),
        report_name=text(element, "ei:reportName") or "",
        created=parse_datetime(required(element, "ei:createdDateTime")),
        descriptions=tuple(_description(d) for d in element.iterfind("oadr:oadrReportDescription", NSMAP)),
        duration=optional_duration(element, "xcal:duration/xcal:duration"),
        report_request_id=text(element, "ei:reportRequestID") or "0",
    )


def _report_back(element: etree._Element) -> timedelta:
    # Tolerance: Alliance samples write reportBackDuration as bare text instead of xcal:duration.
    value = text(element, "ei:reportBackDuration/xcal:duration") or text(element, "ei:reportBackDuration")
    return parse_duration(value or "PT0S")


def decode_report_request(element: etree._Element) -> r.ReportRequest:
    """Read one oadrReportRequest."""
    spec = element.find("ei:reportSpecifier", NSMAP)
    if spec is None:
        raise OadrError(ResponseCode.BAD_REQUEST, "oadrReportRequest without reportSpecifier")
    return r.ReportRequest(
        report_request_id=required(element, "ei:reportRequestID"),
        report_specifier_id=required(spec, "ei:reportSpecifierID"),
        granularity=parse_duration(text(spec, "xcal:granularity/xcal:duration") or "PT0S"),
        report_back=_report_back(spec),
        interval_start=optional_datetime(spec, "ei:reportInterval/xcal:properties/xcal:dtstart/xcal:date-time"),
        interval_duration=optional_duration(spec, "ei:reportInterval/xcal:properties/xcal:duration/xcal:duration"),
        payloads=tuple(
            r.SpecifierPayload(r_id=required(p, "ei:rID"), reading_type=text(p, "ei:readingType") or "x-notApplicable")
            for p in spec.iterfind("ei:specifierPayload", NSMAP)
        ),
    )


def _status(element: etree._Element) -> r.ResourceStatus:
    load_control: dict[str, dict[str, float]] = {}
    state = element.find("oadr:oadrLoadControlState", NSMAP)
    if state is not None:
        for kind in state:
            name = etree.QName(kind).localname.removeprefix("oadr")
            load_control[name[:1].lower() + name[1:]] = {
                etree.QName(v).localname.removeprefix("oadr").lower(): number(v.text, "load control state") for v in kind
            }
    return r.ResourceStatus(
        online=boolean(text(element, "oadr:oadrOnline")),
        manual_override=boolean(text(element, "oadr:oadrManualOverride")),
        load_control=load_control,
    )


def _payload(element: etree._Element) -> r.ReportPayload:
    value = element.find("ei:payloadFloat/ei:value", NSMAP)
    status = element.find("oadr:oadrPayloadResourceStatus", NSMAP)
    confidence = text(element, "ei:confidence")
    accuracy = text(element, "ei:accuracy")
    r_id = required(element, "ei:rID")
    return r.ReportPayload(
        r_id=r_id,
        value=number(value.text, f"value of rID {r_id}") if value is not None else None,
        status=_status(status) if status is not None else None,
        confidence=int(confidence) if confidence and confidence.isdigit() else None,
        accuracy=number(accuracy, "accuracy") if accuracy else None,
        data_quality=text(element, "oadr:oadrDataQuality"),
    )


def _report_data(element: etree._Element) -> r.ReportData:
    return r.ReportData(
        report_request_id=required(element, "ei:reportRequestID"),
        report_specifier_id=required(element, "ei:reportSpecifierID"),
        report_name=text(element, "ei:reportName"),
        created=parse_datetime(required(element, "ei:createdDateTime")),
        report_id=text(element, "ei:eiReportID"),
        dtstart=optional_datetime(element, "xcal:dtstart/xcal:date-time"),
        duration=optional_duration(element, "xcal:duration/xcal:duration"),
        intervals=tuple(
            r.ReportInterval(
                payloads=tuple(_payload(p) for p in i.iterfind("oadr:oadrReportPayload", NSMAP)),
                dtstart=optional_datetime(i, "xcal:dtstart/xcal:date-time"),
                duration=optional_duration(i, "xcal:duration/xcal:duration"),
                uid=text(i, "xcal:uid/xcal:text"),
            )
            for i in element.iterfind("strm:intervals/ei:interval", NSMAP)
        ),
    )


def _cancel_report(el: etree._Element) -> r.CancelReport:
    return r.CancelReport(
        request_id=required(el, "pyld:requestID"),
        report_request_ids=tuple((t or "").strip() for t in el.xpath("ei:reportRequestID/text()", namespaces=NSMAP)),
        report_to_follow=boolean(text(el, "pyld:reportToFollow")),
        ven_id=text(el, "ei:venID"),
    )


def _create_opt(el: etree._Element) -> r.CreateOpt:
    modification = text(el, "ei:qualifiedEventID/ei:modificationNumber")
    windows = []
    for props in el.iterfind("xcal:vavailability/xcal:components/xcal:available/xcal:properties", NSMAP):
        windows.append(
            (
                parse_datetime(required(props, "xcal:dtstart/xcal:date-time")),
                parse_duration(required(props, "xcal:duration/xcal:duration")),
            )
        )
    return r.CreateOpt(
        opt_id=required(el, "ei:optID"),
        opt_type=required(el, "ei:optType"),
        opt_reason=required(el, "ei:optReason"),
        market_context=text(el, "emix:marketContext"),
        ven_id=required(el, "ei:venID"),
        created=parse_datetime(required(el, "ei:createdDateTime")),
        request_id=required(el, "pyld:requestID"),
        windows=tuple(windows),
        event_id=text(el, "ei:qualifiedEventID/ei:eventID"),
        modification_number=int(modification) if modification and modification.isdigit() else None,
        target=parts.decode_target(el.find("ei:eiTarget", NSMAP)),
    )


def _decode_response(el: etree._Element) -> m.EiResponse:
    return parts.decode_response(el.find("ei:eiResponse", NSMAP))


DECODERS: dict[str, Callable[[etree._Element], r.ReportMessage]] = {
    "oadrRegisterReport": lambda el: r.RegisterReport(
        request_id=required(el, "pyld:requestID"),
        reports=tuple(_metadata(x) for x in el.iterfind("oadr:oadrReport", NSMAP)),
        ven_id=text(el, "ei:venID"),
        report_request_id=text(el, "ei:reportRequestID"),
    ),
    "oadrRegisteredReport": lambda el: r.RegisteredReport(
        response=_decode_response(el),
        ven_id=text(el, "ei:venID") or "",
        report_requests=tuple(decode_report_request(x) for x in el.iterfind("oadr:oadrReportRequest", NSMAP)),
    ),
    "oadrCreateReport": lambda el: r.CreateReport(
        request_id=required(el, "pyld:requestID"),
        report_requests=tuple(decode_report_request(x) for x in el.iterfind("oadr:oadrReportRequest", NSMAP)),
        ven_id=text(el, "ei:venID"),
    ),
    "oadrCancelReport": _cancel_report,
    "oadrUpdateReport": lambda el: r.UpdateReport(
        request_id=required(el, "pyld:requestID"),
        reports=tuple(_report_data(x) for x in el.iterfind("oadr:oadrReport", NSMAP)),
        ven_id=text(el, "ei:venID"),
    ),
    "oadrUpdatedReport": lambda el: r.UpdatedReport(
        response=_decode_response(el),
        ven_id=text(el, "ei:venID") or "",
        cancel=_cancel_report(el.find("oadr:oadrCancelReport", NSMAP))
        if el.find("oadr:oadrCancelReport", NSMAP) is not None
        else None,
    ),
    "oadrCreateOpt": _create_opt,
    "oadrCancelOpt": lambda el: r.CancelOpt(
        request_id=required(el, "pyld:requestID"), opt_id=required(el, "ei:optID"), ven_id=required(el, "ei:venID")
    ),
}


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
    sub(el, EI, "createdDateTime", format_datetime(report.created))


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
        sub(sub(props, XCAL, "dtstart"), XCAL, "date-time", format_datetime(req.interval_start))
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
        sub(sub(el, XCAL, "dtstart"), XCAL, "date-time", format_datetime(report.dtstart))
    if report.duration is not None:
        sub_duration(el, XCAL, "duration", report.duration)
    intervals = sub(el, STRM, "intervals") if report.intervals else None
    for interval in report.intervals:
        i_el = sub(intervals, EI, "interval")
        if interval.dtstart is not None:
            sub(sub(i_el, XCAL, "dtstart"), XCAL, "date-time", format_datetime(interval.dtstart))
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
    sub(el, EI, "createdDateTime", format_datetime(report.created))


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
                sub(sub(props, XCAL, "dtstart"), XCAL, "date-time", format_datetime(start))
                sub_duration(props, XCAL, "duration", duration)
        sub(el, EI, "createdDateTime", format_datetime(msg.created))
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
