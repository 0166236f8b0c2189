"""Bytes → typed 2.0b messages. Structure is checked by the XSD first; this reads values."""

from dataclasses import dataclass, replace

from lxml import etree

from mapping.oadr import model as m
from mapping.oadr import parts, report_decode
from mapping.oadr.codes import ResponseCode
from mapping.oadr.namespaces import NSMAP, OADR, q
from mapping.oadr.report_model import ReportMessage
from mapping.oadr.timefmt import parse_datetime, parse_duration
from mapping.oadr.xmltools import boolean, number, optional_duration, required, text
from mapping.oadr.xsd import MessageRejected

_PAYLOAD = q(OADR, "oadrPayload")
_SIGNED = q(OADR, "oadrSignedObject")


@dataclass(frozen=True)
class Envelope:
    """An oadrPayload opened: the message element and its local name."""

    name: str
    element: etree._Element
    root: etree._Element


def open_envelope(root: etree._Element) -> Envelope:
    """Find the message inside oadrPayload/oadrSignedObject; anything else is refused."""
    if root.tag != _PAYLOAD:
        raise MessageRejected(400, f"the root element must be oadr:oadrPayload, not {_local(root.tag)!r}")
    signed = root.find(_SIGNED)
    if signed is None or len(signed) != 1:
        raise MessageRejected(400, "oadrPayload must hold one oadrSignedObject with exactly one message")
    element = signed[0]
    if not isinstance(element.tag, str) or not element.tag.startswith(f"{{{OADR}}}"):
        raise MessageRejected(400, f"{_local(str(element.tag))!r} is not an OpenADR 2.0b message")
    return Envelope(name=_local(element.tag), element=element, root=root)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def read_ven_id(element: etree._Element) -> str | None:
    """The venID of any message that has one (directly or one level down)."""
    return text(element, "ei:venID") or text(element, "*/ei:venID")


def read_request_id(element: etree._Element) -> str | None:
    """The requestID of any message that has one (directly, or one or two levels down)."""
    return text(element, "pyld:requestID") or text(element, "*/pyld:requestID") or text(element, "*/*/pyld:requestID")


def decode_intervals(container: etree._Element) -> tuple[m.Interval, ...]:
    """Read strm:intervals/ei:interval elements with a float payload each."""
    intervals = []
    for index, interval in enumerate(container.iterfind("strm:intervals/ei:interval", NSMAP)):
        duration = text(interval, "xcal:duration/xcal:duration")
        start = text(interval, "xcal:dtstart/xcal:date-time")
        uid = text(interval, "xcal:uid/xcal:text")
        intervals.append(
            m.Interval(
                duration=parse_duration(duration) if duration else parse_duration("PT0S"),
                value=number(text(interval, "ei:signalPayload/ei:payloadFloat/ei:value"), "signal payload"),
                uid=int(uid) if uid and uid.isdigit() else index,
                dtstart=parse_datetime(start) if start else None,
            )
        )
    return tuple(intervals)


def _signal(element: etree._Element, name_path: str, type_path: str, id_path: str) -> m.Signal:
    current = text(element, "ei:currentValue/ei:payloadFloat/ei:value")
    return m.Signal(
        name=required(element, name_path),
        type=required(element, type_path),
        signal_id=required(element, id_path),
        intervals=decode_intervals(element),
        unit=parts.decode_unit(element),
        target=parts.decode_target(element.find("ei:eiTarget", NSMAP))
        if element.find("ei:eiTarget", NSMAP) is not None
        else None,
        current_value=number(current, "currentValue") if current is not None else 0.0,
    )


def decode_event(oadr_event: etree._Element) -> m.Event:
    """Read one oadr:oadrEvent."""
    ev = oadr_event.find("ei:eiEvent", NSMAP)
    desc = ev.find("ei:eventDescriptor", NSMAP)
    props = ev.find("ei:eiActivePeriod/xcal:properties", NSMAP)
    priority = text(desc, "ei:priority")
    modified = text(desc, "ei:modificationDateTime")
    signals = tuple(
        _signal(s, "ei:signalName", "ei:signalType", "ei:signalID")
        for s in ev.iterfind("ei:eiEventSignals/ei:eiEventSignal", NSMAP)
    )
    baseline_el = ev.find("ei:eiEventSignals/ei:eiEventBaseline", NSMAP)
    baseline = None
    if baseline_el is not None:
        baseline = _signal(baseline_el, "ei:baselineName", "ei:baselineName", "ei:baselineID")
        start = text(baseline_el, "xcal:dtstart/xcal:date-time")
        if start and baseline.intervals and baseline.intervals[0].dtstart is None:
            # the baseline's own dtstart travels on its first interval in our model
            first = replace(baseline.intervals[0], dtstart=parse_datetime(start))
            baseline = replace(baseline, intervals=(first, *baseline.intervals[1:]))
    return m.Event(
        event_id=required(desc, "ei:eventID"),
        modification_number=int(required(desc, "ei:modificationNumber")),
        modification_datetime=parse_datetime(modified) if modified else None,
        modification_reason=text(desc, "ei:modificationReason"),
        priority=int(priority) if priority is not None else None,
        market_context=text(desc, "ei:eiMarketContext/emix:marketContext") or "",
        created=parse_datetime(required(desc, "ei:createdDateTime")),
        status=required(desc, "ei:eventStatus"),
        test_event=text(desc, "ei:testEvent") or "false",
        vtn_comment=text(desc, "ei:vtnComment"),
        dtstart=parse_datetime(required(props, "xcal:dtstart/xcal:date-time")),
        duration=parse_duration(required(props, "xcal:duration/xcal:duration")),
        start_after=optional_duration(props, "xcal:tolerance/xcal:tolerate/xcal:startafter"),
        notification=optional_duration(props, "ei:x-eiNotification/xcal:duration"),
        ramp_up=optional_duration(props, "ei:x-eiRampUp/xcal:duration"),
        recovery=optional_duration(props, "ei:x-eiRecovery/xcal:duration"),
        signals=signals,
        baseline=baseline,
        target=parts.decode_target(ev.find("ei:eiTarget", NSMAP)),
        response_required=text(oadr_event, "oadr:oadrResponseRequired") or "always",
    )


def _event_response(element: etree._Element) -> m.EventResponse:
    code = text(element, "ei:responseCode") or "200"
    return m.EventResponse(
        code=int(code) if code.isdigit() else ResponseCode.BAD_REQUEST,
        description=text(element, "ei:responseDescription") or "",
        request_id=text(element, "pyld:requestID") or "",
        event_id=required(element, "ei:qualifiedEventID/ei:eventID"),
        modification_number=int(required(element, "ei:qualifiedEventID/ei:modificationNumber")),
        opt_type=required(element, "ei:optType"),
    )


def decode(envelope: Envelope) -> m.Message | ReportMessage:
    """Turn a schema-valid message into its typed model (unknown types become `Unhandled`)."""
    el, name = envelope.element, envelope.name
    if name == "oadrPoll":
        return m.Poll(ven_id=required(el, "ei:venID"))
    if name == "oadrQueryRegistration":
        return m.QueryRegistration(request_id=required(el, "pyld:requestID"))
    if name == "oadrCreatePartyRegistration":
        pull = text(el, "oadr:oadrHttpPullModel")
        return m.CreatePartyRegistration(
            request_id=required(el, "pyld:requestID"),
            registration_id=text(el, "ei:registrationID"),
            ven_id=text(el, "ei:venID"),
            profile_name=required(el, "oadr:oadrProfileName"),
            transport_name=required(el, "oadr:oadrTransportName"),
            transport_address=text(el, "oadr:oadrTransportAddress"),
            report_only=boolean(text(el, "oadr:oadrReportOnly")),
            xml_signature=boolean(text(el, "oadr:oadrXmlSignature")),
            ven_name=text(el, "oadr:oadrVenName"),
            http_pull_model=boolean(pull) if pull is not None else None,
        )
    if name == "oadrCreatedPartyRegistration":
        freq = text(el, "oadr:oadrRequestedOadrPollFreq/xcal:duration")
        return m.CreatedPartyRegistration(
            response=parts.decode_response(el.find("ei:eiResponse", NSMAP)),
            vtn_id=required(el, "ei:vtnID"),
            registration_id=text(el, "ei:registrationID"),
            ven_id=text(el, "ei:venID"),
            poll_freq=parse_duration(freq) if freq else None,
            profiles=tuple(
                (
                    required(p, "oadr:oadrProfileName"),
                    tuple(
                        t.strip()
                        for t in p.xpath("oadr:oadrTransports/oadr:oadrTransport/oadr:oadrTransportName/text()", namespaces=NSMAP)
                    ),
                )
                for p in el.iterfind("oadr:oadrProfiles/oadr:oadrProfile", NSMAP)
            ),
        )
    if name == "oadrCancelPartyRegistration":
        return m.CancelPartyRegistration(
            request_id=required(el, "pyld:requestID"),
            registration_id=required(el, "ei:registrationID"),
            ven_id=text(el, "ei:venID"),
        )
    if name == "oadrCanceledPartyRegistration":
        return m.CanceledPartyRegistration(
            response=parts.decode_response(el.find("ei:eiResponse", NSMAP)),
            registration_id=text(el, "ei:registrationID"),
            ven_id=text(el, "ei:venID"),
        )
    if name == "oadrRequestReregistration":
        return m.RequestReregistration(ven_id=required(el, "ei:venID"))
    if name == "oadrRequestEvent":
        limit = text(el, "pyld:eiRequestEvent/pyld:replyLimit")
        return m.RequestEvent(
            request_id=required(el, "pyld:eiRequestEvent/pyld:requestID"),
            ven_id=required(el, "pyld:eiRequestEvent/ei:venID"),
            reply_limit=int(limit) if limit and limit.isdigit() else None,
        )
    if name == "oadrDistributeEvent":
        resp = el.find("ei:eiResponse", NSMAP)
        return m.DistributeEvent(
            request_id=text(el, "pyld:requestID") or "",
            vtn_id=required(el, "ei:vtnID"),
            events=tuple(decode_event(e) for e in el.iterfind("oadr:oadrEvent", NSMAP)),
            response=parts.decode_response(resp) if resp is not None else None,
        )
    if name == "oadrCreatedEvent":
        created = el.find("pyld:eiCreatedEvent", NSMAP)
        return m.CreatedEvent(
            response=parts.decode_response(created.find("ei:eiResponse", NSMAP)),
            ven_id=required(created, "ei:venID"),
            event_responses=tuple(_event_response(r) for r in created.iterfind("ei:eventResponses/ei:eventResponse", NSMAP)),
        )
    if name == "oadrResponse":
        return m.Response(response=parts.decode_response(el.find("ei:eiResponse", NSMAP)), ven_id=text(el, "ei:venID"))
    if name in report_decode.DECODERS:
        return report_decode.DECODERS[name](el)
    if name in m.ACKNOWLEDGEMENTS:
        return m.Acknowledgement(
            name=name,
            response=parts.decode_response(el.find("ei:eiResponse", NSMAP)),
            ven_id=text(el, "ei:venID") or "",
            opt_id=text(el, "ei:optID") or "",
            pending_reports=tuple(
                (t or "").strip() for t in el.xpath("oadr:oadrPendingReports/ei:reportRequestID/text()", namespaces=NSMAP)
            ),
        )
    return m.Unhandled(name=name, ven_id=read_ven_id(el), request_id=read_request_id(el))
