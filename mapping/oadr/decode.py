"""Bytes → typed 2.0b messages. Structure is checked by the XSD first; this reads values."""

from dataclasses import dataclass
from datetime import timedelta

from lxml import etree

from mapping.oadr import model as m
from mapping.oadr.codes import OadrError, ResponseCode
from mapping.oadr.namespaces import NSMAP, OADR, POWER, SCALE, q
from mapping.oadr.timefmt import parse_datetime, parse_duration
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


def _text(element: etree._Element, path: str) -> str | None:
    found = element.findtext(path, namespaces=NSMAP)
    return found.strip() if found is not None else None


def _required(element: etree._Element, path: str) -> str:
    value = _text(element, path)
    if value is None:
        raise OadrError(ResponseCode.BAD_REQUEST, f"{path} is missing")
    return value


def _bool(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "1")


def _float(value: str | None, what: str) -> float:
    try:
        return float(value) if value is not None else 0.0
    except ValueError as exc:
        raise OadrError(ResponseCode.INVALID_DATA, f"{what} {value!r} is not a number") from exc


def read_ven_id(element: etree._Element) -> str | None:
    """The venID of any message that has one (directly or one level down)."""
    return _text(element, "ei:venID") or _text(element, "*/ei:venID")


def read_request_id(element: etree._Element) -> str | None:
    """The requestID of any message that has one (directly or one level down)."""
    return _text(element, "pyld:requestID") or _text(element, "*/pyld:requestID")


def decode_response(element: etree._Element | None) -> m.EiResponse:
    """Read an ei:eiResponse element (absent → an empty 200)."""
    if element is None:
        return m.EiResponse()
    code = _text(element, "ei:responseCode") or "200"
    return m.EiResponse(
        code=int(code) if code.isdigit() else ResponseCode.BAD_REQUEST,
        description=_text(element, "ei:responseDescription") or "",
        request_id=_text(element, "pyld:requestID") or "",
    )


def decode_target(element: etree._Element | None) -> m.Target:
    """Read an ei:eiTarget element."""
    if element is None:
        return m.Target()

    def many(path: str) -> tuple[str, ...]:
        return tuple((t or "").strip() for t in element.xpath(f"{path}/text()", namespaces=NSMAP))

    return m.Target(
        ven_ids=many("ei:venID"),
        group_ids=many("ei:groupID"),
        resource_ids=many("ei:resourceID"),
        party_ids=many("ei:partyID"),
        end_device_assets=many("power:endDeviceAsset/power:mrid"),
    )


def decode_unit(signal: etree._Element) -> m.ItemUnit | None:
    """Read the itemBase (units) of a signal or report description, whatever its element name."""
    for child in signal:
        if not isinstance(child.tag, str):
            continue
        ns, _, local = child.tag[1:].partition("}")
        if ns in (POWER, OADR) and child.find(q(SCALE, "siScaleCode")) is not None:
            attrs = child.find(q(POWER, "powerAttributes"))
            power = None
            if attrs is not None:
                power = m.PowerAttributes(
                    hertz=_float(_text(attrs, "power:hertz"), "hertz"),
                    voltage=_float(_text(attrs, "power:voltage"), "voltage"),
                    ac=_bool(_text(attrs, "power:ac")),
                )
            return m.ItemUnit(
                kind=local,
                description=_text(child, f"{{{ns}}}itemDescription") or "",
                units=_text(child, f"{{{ns}}}itemUnits") or "",
                scale=_text(child, "scale:siScaleCode") or "none",
                power=power,
            )
    return None


def decode_intervals(container: etree._Element) -> tuple[m.Interval, ...]:
    """Read strm:intervals/ei:interval elements with a float payload each."""
    intervals = []
    for index, interval in enumerate(container.iterfind("strm:intervals/ei:interval", NSMAP)):
        duration = _text(interval, "xcal:duration/xcal:duration")
        start = _text(interval, "xcal:dtstart/xcal:date-time")
        uid = _text(interval, "xcal:uid/xcal:text")
        intervals.append(
            m.Interval(
                duration=parse_duration(duration) if duration else parse_duration("PT0S"),
                value=_float(_text(interval, "ei:signalPayload/ei:payloadFloat/ei:value"), "signal payload"),
                uid=int(uid) if uid and uid.isdigit() else index,
                dtstart=parse_datetime(start) if start else None,
            )
        )
    return tuple(intervals)


def _signal(element: etree._Element, name_path: str, type_path: str, id_path: str) -> m.Signal:
    current = _text(element, "ei:currentValue/ei:payloadFloat/ei:value")
    return m.Signal(
        name=_required(element, name_path),
        type=_required(element, type_path),
        signal_id=_required(element, id_path),
        intervals=decode_intervals(element),
        unit=decode_unit(element),
        target=decode_target(element.find("ei:eiTarget", NSMAP)) if element.find("ei:eiTarget", NSMAP) is not None else None,
        current_value=_float(current, "currentValue") if current is not None else 0.0,
    )


def _optional_duration(element: etree._Element, path: str) -> timedelta | None:
    value = _text(element, path)
    return parse_duration(value) if value else None


def decode_event(oadr_event: etree._Element) -> m.Event:
    """Read one oadr:oadrEvent."""
    ev = oadr_event.find("ei:eiEvent", NSMAP)
    desc = ev.find("ei:eventDescriptor", NSMAP)
    props = ev.find("ei:eiActivePeriod/xcal:properties", NSMAP)
    priority = _text(desc, "ei:priority")
    modified = _text(desc, "ei:modificationDateTime")
    signals = tuple(
        _signal(s, "ei:signalName", "ei:signalType", "ei:signalID")
        for s in ev.iterfind("ei:eiEventSignals/ei:eiEventSignal", NSMAP)
    )
    baseline_el = ev.find("ei:eiEventSignals/ei:eiEventBaseline", NSMAP)
    baseline = None
    if baseline_el is not None:
        baseline = _signal(baseline_el, "ei:baselineName", "ei:baselineName", "ei:baselineID")
    return m.Event(
        event_id=_required(desc, "ei:eventID"),
        modification_number=int(_required(desc, "ei:modificationNumber")),
        modification_datetime=parse_datetime(modified) if modified else None,
        modification_reason=_text(desc, "ei:modificationReason"),
        priority=int(priority) if priority is not None else None,
        market_context=_text(desc, "ei:eiMarketContext/emix:marketContext") or "",
        created=parse_datetime(_required(desc, "ei:createdDateTime")),
        status=_required(desc, "ei:eventStatus"),
        test_event=_text(desc, "ei:testEvent") or "false",
        vtn_comment=_text(desc, "ei:vtnComment"),
        dtstart=parse_datetime(_required(props, "xcal:dtstart/xcal:date-time")),
        duration=parse_duration(_required(props, "xcal:duration/xcal:duration")),
        start_after=_optional_duration(props, "xcal:tolerance/xcal:tolerate/xcal:startafter"),
        notification=_optional_duration(props, "ei:x-eiNotification/xcal:duration"),
        ramp_up=_optional_duration(props, "ei:x-eiRampUp/xcal:duration"),
        recovery=_optional_duration(props, "ei:x-eiRecovery/xcal:duration"),
        signals=signals,
        baseline=baseline,
        target=decode_target(ev.find("ei:eiTarget", NSMAP)),
        response_required=_text(oadr_event, "oadr:oadrResponseRequired") or "always",
    )


def _event_response(element: etree._Element) -> m.EventResponse:
    code = _text(element, "ei:responseCode") or "200"
    return m.EventResponse(
        code=int(code) if code.isdigit() else ResponseCode.BAD_REQUEST,
        description=_text(element, "ei:responseDescription") or "",
        request_id=_text(element, "pyld:requestID") or "",
        event_id=_required(element, "ei:qualifiedEventID/ei:eventID"),
        modification_number=int(_required(element, "ei:qualifiedEventID/ei:modificationNumber")),
        opt_type=_required(element, "ei:optType"),
    )


def decode(envelope: Envelope) -> m.Message:
    """Turn a schema-valid message into its typed model (unknown types become `Unhandled`)."""
    el, name = envelope.element, envelope.name
    if name == "oadrPoll":
        return m.Poll(ven_id=_required(el, "ei:venID"))
    if name == "oadrQueryRegistration":
        return m.QueryRegistration(request_id=_required(el, "pyld:requestID"))
    if name == "oadrCreatePartyRegistration":
        pull = _text(el, "oadr:oadrHttpPullModel")
        return m.CreatePartyRegistration(
            request_id=_required(el, "pyld:requestID"),
            registration_id=_text(el, "ei:registrationID"),
            ven_id=_text(el, "ei:venID"),
            profile_name=_required(el, "oadr:oadrProfileName"),
            transport_name=_required(el, "oadr:oadrTransportName"),
            transport_address=_text(el, "oadr:oadrTransportAddress"),
            report_only=_bool(_text(el, "oadr:oadrReportOnly")),
            xml_signature=_bool(_text(el, "oadr:oadrXmlSignature")),
            ven_name=_text(el, "oadr:oadrVenName"),
            http_pull_model=_bool(pull) if pull is not None else None,
        )
    if name == "oadrCreatedPartyRegistration":
        freq = _text(el, "oadr:oadrRequestedOadrPollFreq/xcal:duration")
        return m.CreatedPartyRegistration(
            response=decode_response(el.find("ei:eiResponse", NSMAP)),
            vtn_id=_required(el, "ei:vtnID"),
            registration_id=_text(el, "ei:registrationID"),
            ven_id=_text(el, "ei:venID"),
            poll_freq=parse_duration(freq) if freq else None,
            profiles=tuple(
                (
                    _required(p, "oadr:oadrProfileName"),
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
            request_id=_required(el, "pyld:requestID"),
            registration_id=_required(el, "ei:registrationID"),
            ven_id=_text(el, "ei:venID"),
        )
    if name == "oadrCanceledPartyRegistration":
        return m.CanceledPartyRegistration(
            response=decode_response(el.find("ei:eiResponse", NSMAP)),
            registration_id=_text(el, "ei:registrationID"),
            ven_id=_text(el, "ei:venID"),
        )
    if name == "oadrRequestReregistration":
        return m.RequestReregistration(ven_id=_required(el, "ei:venID"))
    if name == "oadrRequestEvent":
        limit = _text(el, "pyld:eiRequestEvent/pyld:replyLimit")
        return m.RequestEvent(
            request_id=_required(el, "pyld:eiRequestEvent/pyld:requestID"),
            ven_id=_required(el, "pyld:eiRequestEvent/ei:venID"),
            reply_limit=int(limit) if limit and limit.isdigit() else None,
        )
    if name == "oadrDistributeEvent":
        resp = el.find("ei:eiResponse", NSMAP)
        return m.DistributeEvent(
            request_id=_text(el, "pyld:requestID") or "",
            vtn_id=_required(el, "ei:vtnID"),
            events=tuple(decode_event(e) for e in el.iterfind("oadr:oadrEvent", NSMAP)),
            response=decode_response(resp) if resp is not None else None,
        )
    if name == "oadrCreatedEvent":
        created = el.find("pyld:eiCreatedEvent", NSMAP)
        return m.CreatedEvent(
            response=decode_response(created.find("ei:eiResponse", NSMAP)),
            ven_id=_required(created, "ei:venID"),
            event_responses=tuple(_event_response(r) for r in created.iterfind("ei:eventResponses/ei:eventResponse", NSMAP)),
        )
    if name == "oadrResponse":
        return m.Response(response=decode_response(el.find("ei:eiResponse", NSMAP)), ven_id=_text(el, "ei:venID"))
    if name in m.ACKNOWLEDGEMENTS:
        return m.Acknowledgement(
            name=name,
            response=decode_response(el.find("ei:eiResponse", NSMAP)),
            ven_id=_text(el, "ei:venID") or "",
            opt_id=_text(el, "ei:optID") or "",
        )
    return m.Unhandled(name=name, ven_id=read_ven_id(el), request_id=read_request_id(el))
