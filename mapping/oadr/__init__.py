"""The OpenADR 2.0b wire format: XML codec, schema check, durations and event status.

This is the one place both `vtn` and `ven` take the 2.0b codec from. It only turns bytes
into typed messages and back; it never touches the network or a database.

The API: the typed messages (`model`, `report_model`: import them as modules, `m` and `r`), bytes →
message (`decode`, `open_envelope`, over `parse_xml`'s hardened parser and the XSD), message → bytes
(`encode`), the response codes and refusals (`ResponseCode`, `OadrError`, `refusal`), event status
over time (`event_status`, with `EventStatus` and `OptType`), xcal times and durations, the JSON form
events are stored in, and the 2.0b signal vocabulary. `parts`, `xmltools`, `namespaces` and the
report codec modules are the codec's own toolkit.
"""

from mapping.oadr.codes import OadrError, ResponseCode
from mapping.oadr.decode import Envelope, decode, open_envelope, read_request_id, read_ven_id
from mapping.oadr.encode import encode, encode_distribute_event, encode_event, encode_ok_response
from mapping.oadr.json_form import event_from_json, event_to_json, report_request_from_json, report_request_to_json
from mapping.oadr.lifecycle import delivered_until, event_end, event_status, priority_key, status_boundaries
from mapping.oadr.model import EventStatus, OptType
from mapping.oadr.refusal import refusal, refusal_response
from mapping.oadr.timefmt import format_datetime, format_duration, parse_datetime, parse_duration, wire_datetime
from mapping.oadr.vocabulary import SIGNAL_NAMES, SIGNAL_TYPES, check_signal, default_unit
from mapping.oadr.xsd import MessageRejected, parse_xml, schema_errors

__all__ = [
    "SIGNAL_NAMES",
    "SIGNAL_TYPES",
    "Envelope",
    "EventStatus",
    "MessageRejected",
    "OadrError",
    "OptType",
    "ResponseCode",
    "check_signal",
    "decode",
    "default_unit",
    "delivered_until",
    "encode",
    "encode_distribute_event",
    "encode_event",
    "encode_ok_response",
    "event_end",
    "event_from_json",
    "event_status",
    "event_to_json",
    "format_datetime",
    "format_duration",
    "open_envelope",
    "parse_datetime",
    "parse_duration",
    "parse_xml",
    "priority_key",
    "read_request_id",
    "read_ven_id",
    "refusal",
    "refusal_response",
    "report_request_from_json",
    "report_request_to_json",
    "schema_errors",
    "status_boundaries",
    "wire_datetime",
]
