"""Typed 2.0b messages → bytes, in the element order the XSD requires.

Events are encoded once into `oadr:oadrEvent` fragments (`encode_event`) so that a server can
cache them and assemble an oadrDistributeEvent for any VEN by concatenation
(`encode_distribute_event`).
"""

from collections.abc import Iterable, Sequence
from datetime import timedelta
from functools import cache
from xml.sax.saxutils import escape as xml_escape

from lxml import etree

from mapping.oadr import model as m
from mapping.oadr import parts, report_encode
from mapping.oadr.namespaces import (
    EI,
    EMIX,
    NSMAP,
    OADR,
    PYLD,
    STRM,
    XCAL,
    q,
)
from mapping.oadr.report_model import ReportMessage
from mapping.oadr.timefmt import format_duration, wire_datetime
from mapping.oadr.xmltools import format_number, sub, sub_duration

_XML_DECL = b'<?xml version="1.0" encoding="utf-8"?>\n'


def _intervals(parent: etree._Element, intervals: Sequence[m.Interval]) -> None:
    container = sub(parent, STRM, "intervals")
    for interval in intervals:
        el = sub(container, EI, "interval")
        if interval.dtstart is not None:
            sub(sub(el, XCAL, "dtstart"), XCAL, "date-time", wire_datetime(interval.dtstart))
        sub_duration(el, XCAL, "duration", interval.duration)
        sub(sub(el, XCAL, "uid"), XCAL, "text", str(interval.uid))
        sub(sub(sub(el, EI, "signalPayload"), EI, "payloadFloat"), EI, "value", format_number(interval.value))


def _signal(parent: etree._Element, signal: m.Signal) -> None:
    el = sub(parent, EI, "eiEventSignal")
    _intervals(el, signal.intervals)
    if signal.target is not None:
        parts.encode_target(el, signal.target)
    sub(el, EI, "signalName", signal.name)
    sub(el, EI, "signalType", signal.type)
    sub(el, EI, "signalID", signal.signal_id)
    if signal.unit is not None:
        parts.encode_unit(el, signal.unit)
    sub(sub(sub(el, EI, "currentValue"), EI, "payloadFloat"), EI, "value", format_number(signal.current_value))


def _baseline(parent: etree._Element, baseline: m.Signal) -> None:
    el = sub(parent, EI, "eiEventBaseline")
    first = baseline.intervals[0] if baseline.intervals else None
    if first is not None and first.dtstart is not None:
        sub(sub(el, XCAL, "dtstart"), XCAL, "date-time", wire_datetime(first.dtstart))
    sub_duration(el, XCAL, "duration", sum((i.duration for i in baseline.intervals), timedelta()))
    _intervals(el, baseline.intervals)
    sub(el, EI, "baselineID", baseline.signal_id)
    sub(el, EI, "baselineName", baseline.name)
    if baseline.unit is not None:
        parts.encode_unit(el, baseline.unit)


def event_element(event: m.Event) -> etree._Element:
    """Build the oadr:oadrEvent element of `event`."""
    root = etree.Element(q(OADR, "oadrEvent"), nsmap=NSMAP)
    ev = sub(root, EI, "eiEvent")
    desc = sub(ev, EI, "eventDescriptor")
    sub(desc, EI, "eventID", event.event_id)
    sub(desc, EI, "modificationNumber", str(event.modification_number))
    if event.modification_datetime is not None:
        sub(desc, EI, "modificationDateTime", wire_datetime(event.modification_datetime))
    if event.modification_reason:
        sub(desc, EI, "modificationReason", event.modification_reason)
    if event.priority is not None:
        sub(desc, EI, "priority", str(event.priority))
    sub(sub(desc, EI, "eiMarketContext"), EMIX, "marketContext", event.market_context)
    sub(desc, EI, "createdDateTime", wire_datetime(event.created))
    sub(desc, EI, "eventStatus", event.status)
    sub(desc, EI, "testEvent", event.test_event)
    if event.vtn_comment:
        sub(desc, EI, "vtnComment", event.vtn_comment)
    props = sub(sub(ev, EI, "eiActivePeriod"), XCAL, "properties")
    sub(sub(props, XCAL, "dtstart"), XCAL, "date-time", wire_datetime(event.dtstart))
    sub_duration(props, XCAL, "duration", event.duration)
    if event.start_after is not None:
        sub(sub(sub(props, XCAL, "tolerance"), XCAL, "tolerate"), XCAL, "startafter", format_duration(event.start_after))
    for local, value in (
        ("x-eiNotification", event.notification),
        ("x-eiRampUp", event.ramp_up),
        ("x-eiRecovery", event.recovery),
    ):
        if value is not None:
            sub_duration(props, EI, local, value)
    sub(props.getparent(), XCAL, "components")
    signals = sub(ev, EI, "eiEventSignals")
    for signal in event.signals:
        _signal(signals, signal)
    if event.baseline is not None:
        _baseline(signals, event.baseline)
    parts.encode_target(ev, event.target)
    sub(root, OADR, "oadrResponseRequired", event.response_required)
    return root


def encode_event(event: m.Event) -> bytes:
    """One oadr:oadrEvent as a self-contained XML fragment (namespaces declared on it)."""
    return etree.tostring(event_element(event))


def _wrap(message: etree._Element) -> bytes:
    payload = etree.Element(q(OADR, "oadrPayload"), nsmap=NSMAP)
    signed = sub(payload, OADR, "oadrSignedObject")
    signed.append(message)
    return _XML_DECL + etree.tostring(payload)


def _message(local: str, schema_version: bool = True) -> etree._Element:
    el = etree.Element(q(OADR, local), nsmap=NSMAP)
    if schema_version:
        el.set(q(EI, "schemaVersion"), "2.0b")
    return el


_DISTRIBUTE_OPEN = (
    "<oadr:oadrPayload " + " ".join(f'xmlns:{p}="{u}"' for p, u in NSMAP.items()) + ">"
    '<oadr:oadrSignedObject><oadr:oadrDistributeEvent ei:schemaVersion="2.0b">'
).encode()
_DISTRIBUTE_CLOSE = b"</oadr:oadrDistributeEvent></oadr:oadrSignedObject></oadr:oadrPayload>"


def encode_distribute_event(
    vtn_id: str, request_id: str, event_fragments: Iterable[bytes], response: m.EiResponse | None = None
) -> bytes:
    """Assemble an oadrDistributeEvent from fragments made by `encode_event`."""
    head = etree.Element("head", nsmap=NSMAP)
    if response is not None:
        parts.encode_response(head, response)
    sub(head, PYLD, "requestID", request_id)
    sub(head, EI, "vtnID", vtn_id)
    inner = b"".join(etree.tostring(child) for child in head)
    return _XML_DECL + _DISTRIBUTE_OPEN + inner + b"".join(event_fragments) + _DISTRIBUTE_CLOSE


_MARK = "VEN-ID-PLACEHOLDER-7f3a"


@cache
def _ok_response_parts() -> tuple[bytes, bytes]:
    whole = _wrap(_oadr_response(m.Response(response=m.EiResponse(request_id=""), ven_id=_MARK)))
    head, _, tail = whole.partition(_MARK.encode())
    return head, tail


def encode_ok_response(ven_id: str) -> bytes:
    """oadrResponse 200 for `ven_id` — the answer to most polls, so it is assembled from a cached template."""
    head, tail = _ok_response_parts()
    return head + xml_escape(ven_id).encode() + tail


def encode(message: m.Message | ReportMessage) -> bytes:
    """Encode any typed message (except `Unhandled`) as a complete oadrPayload."""
    if isinstance(message, m.DistributeEvent):
        return encode_distribute_event(
            message.vtn_id, message.request_id, (encode_event(e) for e in message.events), message.response
        )
    name = report_encode.ELEMENT_NAMES.get(type(message))
    if name is not None:
        el = _message(name)
        report_encode.fill(el, message)  # type: ignore[arg-type]
        return _wrap(el)
    return _wrap(_ENCODERS[type(message)](message))


def _created_party_registration(msg: m.CreatedPartyRegistration) -> etree._Element:
    el = _message("oadrCreatedPartyRegistration")
    parts.encode_response(el, msg.response)
    if msg.registration_id:
        sub(el, EI, "registrationID", msg.registration_id)
    if msg.ven_id:
        sub(el, EI, "venID", msg.ven_id)
    sub(el, EI, "vtnID", msg.vtn_id)
    profiles = sub(el, OADR, "oadrProfiles")
    for name, transports in msg.profiles:
        profile = sub(profiles, OADR, "oadrProfile")
        sub(profile, OADR, "oadrProfileName", name)
        tr = sub(profile, OADR, "oadrTransports")
        for transport in transports:
            sub(sub(tr, OADR, "oadrTransport"), OADR, "oadrTransportName", transport)
    if msg.poll_freq is not None:
        sub_duration(el, OADR, "oadrRequestedOadrPollFreq", msg.poll_freq)
    return el


def _create_party_registration(msg: m.CreatePartyRegistration) -> etree._Element:
    el = _message("oadrCreatePartyRegistration")
    sub(el, PYLD, "requestID", msg.request_id)
    if msg.registration_id:
        sub(el, EI, "registrationID", msg.registration_id)
    if msg.ven_id:
        sub(el, EI, "venID", msg.ven_id)
    sub(el, OADR, "oadrProfileName", msg.profile_name)
    sub(el, OADR, "oadrTransportName", msg.transport_name)
    if msg.transport_address:
        sub(el, OADR, "oadrTransportAddress", msg.transport_address)
    sub(el, OADR, "oadrReportOnly", "true" if msg.report_only else "false")
    sub(el, OADR, "oadrXmlSignature", "true" if msg.xml_signature else "false")
    if msg.ven_name:
        sub(el, OADR, "oadrVenName", msg.ven_name)
    if msg.http_pull_model is not None:
        sub(el, OADR, "oadrHttpPullModel", "true" if msg.http_pull_model else "false")
    return el


def _query_registration(msg: m.QueryRegistration) -> etree._Element:
    el = _message("oadrQueryRegistration")
    sub(el, PYLD, "requestID", msg.request_id)
    return el


def _cancel_party_registration(msg: m.CancelPartyRegistration) -> etree._Element:
    el = _message("oadrCancelPartyRegistration")
    sub(el, PYLD, "requestID", msg.request_id)
    sub(el, EI, "registrationID", msg.registration_id)
    if msg.ven_id:
        sub(el, EI, "venID", msg.ven_id)
    return el


def _canceled_party_registration(msg: m.CanceledPartyRegistration) -> etree._Element:
    el = _message("oadrCanceledPartyRegistration")
    parts.encode_response(el, msg.response)
    if msg.registration_id:
        sub(el, EI, "registrationID", msg.registration_id)
    if msg.ven_id:
        sub(el, EI, "venID", msg.ven_id)
    return el


def _request_reregistration(msg: m.RequestReregistration) -> etree._Element:
    el = _message("oadrRequestReregistration")
    sub(el, EI, "venID", msg.ven_id)
    return el


def _request_event(msg: m.RequestEvent) -> etree._Element:
    el = _message("oadrRequestEvent")
    req = sub(el, PYLD, "eiRequestEvent")
    sub(req, PYLD, "requestID", msg.request_id)
    sub(req, EI, "venID", msg.ven_id)
    if msg.reply_limit is not None:
        sub(req, PYLD, "replyLimit", str(msg.reply_limit))
    return el


def _created_event(msg: m.CreatedEvent) -> etree._Element:
    el = _message("oadrCreatedEvent")
    created = sub(el, PYLD, "eiCreatedEvent")
    parts.encode_response(created, msg.response)
    if msg.event_responses:
        responses = sub(created, EI, "eventResponses")
        for r in msg.event_responses:
            er = sub(responses, EI, "eventResponse")
            sub(er, EI, "responseCode", f"{int(r.code):03d}")
            sub(er, EI, "responseDescription", r.description)
            sub(er, PYLD, "requestID", r.request_id)
            qe = sub(er, EI, "qualifiedEventID")
            sub(qe, EI, "eventID", r.event_id)
            sub(qe, EI, "modificationNumber", str(r.modification_number))
            sub(er, EI, "optType", r.opt_type)
    sub(created, EI, "venID", msg.ven_id)
    return el


def _poll(msg: m.Poll) -> etree._Element:
    el = _message("oadrPoll")
    sub(el, EI, "venID", msg.ven_id)
    return el


def _oadr_response(msg: m.Response) -> etree._Element:
    el = _message("oadrResponse")
    parts.encode_response(el, msg.response)
    if msg.ven_id:
        sub(el, EI, "venID", msg.ven_id)
    return el


def _acknowledgement(msg: m.Acknowledgement) -> etree._Element:
    if msg.name not in m.ACKNOWLEDGEMENTS:
        raise ValueError(f"{msg.name} is not an acknowledgement message")
    el = _message(msg.name)
    parts.encode_response(el, msg.response)
    if msg.name.endswith("Opt"):
        sub(el, EI, "optID", msg.opt_id)
        return el
    if msg.name in ("oadrCreatedReport", "oadrCanceledReport"):
        pending = sub(el, OADR, "oadrPendingReports")
        for request_id in msg.pending_reports:
            sub(pending, EI, "reportRequestID", request_id)
    sub(el, EI, "venID", msg.ven_id)
    return el


_ENCODERS = {
    m.Acknowledgement: _acknowledgement,
    m.CreatedPartyRegistration: _created_party_registration,
    m.CreatePartyRegistration: _create_party_registration,
    m.QueryRegistration: _query_registration,
    m.CancelPartyRegistration: _cancel_party_registration,
    m.CanceledPartyRegistration: _canceled_party_registration,
    m.RequestReregistration: _request_reregistration,
    m.RequestEvent: _request_event,
    m.CreatedEvent: _created_event,
    m.Poll: _poll,
    m.Response: _oadr_response,
}
