"""Typed 2.0b messages → bytes, in the element order the XSD requires.

Events are encoded once into `oadr:oadrEvent` fragments (`encode_event`) so that a server can
cache them and assemble an oadrDistributeEvent for any VEN by concatenation
(`encode_distribute_event`).
"""

from collections.abc import Iterable, Sequence
from datetime import timedelta

from lxml import etree

from mapping.oadr import model as m
from mapping.oadr.namespaces import (
    EI,
    EMIX,
    NSMAP,
    OADR,
    POWER,
    PYLD,
    SCALE,
    STRM,
    XCAL,
    q,
)
from mapping.oadr.timefmt import format_datetime, format_duration

_XML_DECL = b'<?xml version="1.0" encoding="utf-8"?>\n'
_POWER_KINDS = {"powerReal", "powerReactive", "powerApparent", "energyReal", "energyReactive", "energyApparent", "voltage"}


def _sub(parent: etree._Element, ns: str, local: str, text: str | None = None) -> etree._Element:
    child = etree.SubElement(parent, q(ns, local))
    if text is not None:
        child.text = text
    return child


def _number(value: float) -> str:
    text = repr(float(value))
    return text.removesuffix(".0")


def _duration(parent: etree._Element, ns: str, local: str, value: timedelta) -> None:
    _sub(_sub(parent, ns, local), XCAL, "duration", format_duration(value))


def _response(parent: etree._Element, response: m.EiResponse) -> None:
    el = _sub(parent, EI, "eiResponse")
    _sub(el, EI, "responseCode", str(int(response.code)))
    _sub(el, EI, "responseDescription", response.description)
    _sub(el, PYLD, "requestID", response.request_id or "")


def _target(parent: etree._Element, target: m.Target) -> None:
    el = _sub(parent, EI, "eiTarget")
    for mrid in target.end_device_assets:
        _sub(_sub(el, POWER, "endDeviceAsset"), POWER, "mrid", mrid)
    for local, values in (
        ("groupID", target.group_ids),
        ("resourceID", target.resource_ids),
        ("venID", target.ven_ids),
        ("partyID", target.party_ids),
    ):
        for value in values:
            _sub(el, EI, local, value)


def encode_unit(parent: etree._Element, unit: m.ItemUnit) -> None:
    """Append an emix itemBase element (power:* or oadr:*) describing `unit`."""
    ns = POWER if unit.kind in _POWER_KINDS else OADR
    el = _sub(parent, ns, unit.kind)
    _sub(el, ns, "itemDescription", unit.description)
    _sub(el, ns, "itemUnits", unit.units)
    _sub(el, SCALE, "siScaleCode", unit.scale)
    if unit.kind.startswith("power"):
        attrs = unit.power or m.PowerAttributes()
        pa = _sub(el, POWER, "powerAttributes")
        _sub(pa, POWER, "hertz", _number(attrs.hertz))
        _sub(pa, POWER, "voltage", _number(attrs.voltage))
        _sub(pa, POWER, "ac", "true" if attrs.ac else "false")


def _intervals(parent: etree._Element, intervals: Sequence[m.Interval]) -> None:
    container = _sub(parent, STRM, "intervals")
    for interval in intervals:
        el = _sub(container, EI, "interval")
        if interval.dtstart is not None:
            _sub(_sub(el, XCAL, "dtstart"), XCAL, "date-time", format_datetime(interval.dtstart))
        _duration(el, XCAL, "duration", interval.duration)
        _sub(_sub(el, XCAL, "uid"), XCAL, "text", str(interval.uid))
        _sub(_sub(_sub(el, EI, "signalPayload"), EI, "payloadFloat"), EI, "value", _number(interval.value))


def _signal(parent: etree._Element, signal: m.Signal) -> None:
    el = _sub(parent, EI, "eiEventSignal")
    _intervals(el, signal.intervals)
    if signal.target is not None:
        _target(el, signal.target)
    _sub(el, EI, "signalName", signal.name)
    _sub(el, EI, "signalType", signal.type)
    _sub(el, EI, "signalID", signal.signal_id)
    if signal.unit is not None:
        encode_unit(el, signal.unit)
    _sub(_sub(_sub(el, EI, "currentValue"), EI, "payloadFloat"), EI, "value", _number(signal.current_value))


def _baseline(parent: etree._Element, baseline: m.Signal) -> None:
    el = _sub(parent, EI, "eiEventBaseline")
    first = baseline.intervals[0] if baseline.intervals else None
    if first is not None and first.dtstart is not None:
        _sub(_sub(el, XCAL, "dtstart"), XCAL, "date-time", format_datetime(first.dtstart))
    _duration(el, XCAL, "duration", sum((i.duration for i in baseline.intervals), timedelta()))
    _intervals(el, baseline.intervals)
    _sub(el, EI, "baselineID", baseline.signal_id)
    _sub(el, EI, "baselineName", baseline.name)
    if baseline.unit is not None:
        encode_unit(el, baseline.unit)


def event_element(event: m.Event) -> etree._Element:
    """Build the oadr:oadrEvent element of `event`."""
    root = etree.Element(q(OADR, "oadrEvent"), nsmap=NSMAP)
    ev = _sub(root, EI, "eiEvent")
    desc = _sub(ev, EI, "eventDescriptor")
    _sub(desc, EI, "eventID", event.event_id)
    _sub(desc, EI, "modificationNumber", str(event.modification_number))
    if event.modification_datetime is not None:
        _sub(desc, EI, "modificationDateTime", format_datetime(event.modification_datetime))
    if event.modification_reason:
        _sub(desc, EI, "modificationReason", event.modification_reason)
    if event.priority is not None:
        _sub(desc, EI, "priority", str(event.priority))
    _sub(_sub(desc, EI, "eiMarketContext"), EMIX, "marketContext", event.market_context)
    _sub(desc, EI, "createdDateTime", format_datetime(event.created))
    _sub(desc, EI, "eventStatus", event.status)
    _sub(desc, EI, "testEvent", event.test_event)
    if event.vtn_comment:
        _sub(desc, EI, "vtnComment", event.vtn_comment)
    props = _sub(_sub(ev, EI, "eiActivePeriod"), XCAL, "properties")
    _sub(_sub(props, XCAL, "dtstart"), XCAL, "date-time", format_datetime(event.dtstart))
    _duration(props, XCAL, "duration", event.duration)
    if event.start_after is not None:
        _sub(_sub(_sub(props, XCAL, "tolerance"), XCAL, "tolerate"), XCAL, "startafter", format_duration(event.start_after))
    for local, value in (
        ("x-eiNotification", event.notification),
        ("x-eiRampUp", event.ramp_up),
        ("x-eiRecovery", event.recovery),
    ):
        if value is not None:
            _duration(props, EI, local, value)
    _sub(props.getparent(), XCAL, "components")
    signals = _sub(ev, EI, "eiEventSignals")
    for signal in event.signals:
        _signal(signals, signal)
    if event.baseline is not None:
        _baseline(signals, event.baseline)
    _target(ev, event.target)
    _sub(root, OADR, "oadrResponseRequired", event.response_required)
    return root


def encode_event(event: m.Event) -> bytes:
    """One oadr:oadrEvent as a self-contained XML fragment (namespaces declared on it)."""
    return etree.tostring(event_element(event))


def _wrap(message: etree._Element) -> bytes:
    payload = etree.Element(q(OADR, "oadrPayload"), nsmap=NSMAP)
    signed = _sub(payload, OADR, "oadrSignedObject")
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
        _response(head, response)
    _sub(head, PYLD, "requestID", request_id)
    _sub(head, EI, "vtnID", vtn_id)
    inner = b"".join(etree.tostring(child) for child in head)
    return _XML_DECL + _DISTRIBUTE_OPEN + inner + b"".join(event_fragments) + _DISTRIBUTE_CLOSE


def encode(message: m.Message) -> bytes:
    """Encode any typed message (except `Unhandled`) as a complete oadrPayload."""
    if isinstance(message, m.DistributeEvent):
        return encode_distribute_event(
            message.vtn_id, message.request_id, (encode_event(e) for e in message.events), message.response
        )
    el = _ENCODERS[type(message)](message)
    return _wrap(el)


def _created_party_registration(msg: m.CreatedPartyRegistration) -> etree._Element:
    el = _message("oadrCreatedPartyRegistration")
    _response(el, msg.response)
    if msg.registration_id:
        _sub(el, EI, "registrationID", msg.registration_id)
    if msg.ven_id:
        _sub(el, EI, "venID", msg.ven_id)
    _sub(el, EI, "vtnID", msg.vtn_id)
    profiles = _sub(el, OADR, "oadrProfiles")
    for name, transports in msg.profiles:
        profile = _sub(profiles, OADR, "oadrProfile")
        _sub(profile, OADR, "oadrProfileName", name)
        tr = _sub(profile, OADR, "oadrTransports")
        for transport in transports:
            _sub(_sub(tr, OADR, "oadrTransport"), OADR, "oadrTransportName", transport)
    if msg.poll_freq is not None:
        _duration(el, OADR, "oadrRequestedOadrPollFreq", msg.poll_freq)
    return el


def _create_party_registration(msg: m.CreatePartyRegistration) -> etree._Element:
    el = _message("oadrCreatePartyRegistration")
    _sub(el, PYLD, "requestID", msg.request_id)
    if msg.registration_id:
        _sub(el, EI, "registrationID", msg.registration_id)
    if msg.ven_id:
        _sub(el, EI, "venID", msg.ven_id)
    _sub(el, OADR, "oadrProfileName", msg.profile_name)
    _sub(el, OADR, "oadrTransportName", msg.transport_name)
    if msg.transport_address:
        _sub(el, OADR, "oadrTransportAddress", msg.transport_address)
    _sub(el, OADR, "oadrReportOnly", "true" if msg.report_only else "false")
    _sub(el, OADR, "oadrXmlSignature", "true" if msg.xml_signature else "false")
    if msg.ven_name:
        _sub(el, OADR, "oadrVenName", msg.ven_name)
    if msg.http_pull_model is not None:
        _sub(el, OADR, "oadrHttpPullModel", "true" if msg.http_pull_model else "false")
    return el


def _query_registration(msg: m.QueryRegistration) -> etree._Element:
    el = _message("oadrQueryRegistration")
    _sub(el, PYLD, "requestID", msg.request_id)
    return el


def _cancel_party_registration(msg: m.CancelPartyRegistration) -> etree._Element:
    el = _message("oadrCancelPartyRegistration")
    _sub(el, PYLD, "requestID", msg.request_id)
    _sub(el, EI, "registrationID", msg.registration_id)
    if msg.ven_id:
        _sub(el, EI, "venID", msg.ven_id)
    return el


def _canceled_party_registration(msg: m.CanceledPartyRegistration) -> etree._Element:
    el = _message("oadrCanceledPartyRegistration")
    _response(el, msg.response)
    if msg.registration_id:
        _sub(el, EI, "registrationID", msg.registration_id)
    if msg.ven_id:
        _sub(el, EI, "venID", msg.ven_id)
    return el


def _request_reregistration(msg: m.RequestReregistration) -> etree._Element:
    el = _message("oadrRequestReregistration")
    _sub(el, EI, "venID", msg.ven_id)
    return el


def _request_event(msg: m.RequestEvent) -> etree._Element:
    el = _message("oadrRequestEvent")
    req = _sub(el, PYLD, "eiRequestEvent")
    _sub(req, PYLD, "requestID", msg.request_id)
    _sub(req, EI, "venID", msg.ven_id)
    if msg.reply_limit is not None:
        _sub(req, PYLD, "replyLimit", str(msg.reply_limit))
    return el


def _created_event(msg: m.CreatedEvent) -> etree._Element:
    el = _message("oadrCreatedEvent")
    created = _sub(el, PYLD, "eiCreatedEvent")
    _response(created, msg.response)
    if msg.event_responses:
        responses = _sub(created, EI, "eventResponses")
        for r in msg.event_responses:
            er = _sub(responses, EI, "eventResponse")
            _sub(er, EI, "responseCode", str(int(r.code)))
            _sub(er, EI, "responseDescription", r.description)
            _sub(er, PYLD, "requestID", r.request_id)
            qe = _sub(er, EI, "qualifiedEventID")
            _sub(qe, EI, "eventID", r.event_id)
            _sub(qe, EI, "modificationNumber", str(r.modification_number))
            _sub(er, EI, "optType", r.opt_type)
    _sub(created, EI, "venID", msg.ven_id)
    return el


def _poll(msg: m.Poll) -> etree._Element:
    el = _message("oadrPoll")
    _sub(el, EI, "venID", msg.ven_id)
    return el


def _oadr_response(msg: m.Response) -> etree._Element:
    el = _message("oadrResponse")
    _response(el, msg.response)
    if msg.ven_id:
        _sub(el, EI, "venID", msg.ven_id)
    return el


def _acknowledgement(msg: m.Acknowledgement) -> etree._Element:
    if msg.name not in m.ACKNOWLEDGEMENTS:
        raise ValueError(f"{msg.name} is not an acknowledgement message")
    el = _message(msg.name)
    _response(el, msg.response)
    if msg.name.endswith("Opt"):
        _sub(el, EI, "optID", msg.opt_id)
        return el
    if msg.name in ("oadrCreatedReport", "oadrCanceledReport"):
        _sub(el, OADR, "oadrPendingReports")
    _sub(el, EI, "venID", msg.ven_id)
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
