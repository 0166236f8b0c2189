"""EiReport and EiOpt messages: XML → the typed models of `report_model`."""

from collections.abc import Callable
from datetime import timedelta

from lxml import etree

from mapping.oadr import model as m
from mapping.oadr import parts
from mapping.oadr import report_model as r
from mapping.oadr.codes import OadrError, ResponseCode
from mapping.oadr.namespaces import NSMAP
from mapping.oadr.timefmt import parse_datetime, parse_duration
from mapping.oadr.xmltools import (
    boolean,
    number,
    optional_datetime,
    optional_duration,
    required,
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
