"""What a VTN checks of a 2.0b message a VEN sent, after its schema and before decoding it: the limits the
schema leaves open but the VTN must hold — the same on every store, so a caller's mistake is a refusal
naming the field (452 for an identifier, 454 for other data), never a database error (issue 22).

- text no longer than the store column it goes into (the store's schema is the one source of those limits:
  the VTN passes them in, by element, from `STORED_TEXT`);
- a duration never negative, and a time plus its duration still within the calendar (year 9999);
- a payload value within xs:float (±3.4028235e38): the schema's type, which libxml2 lets through.
"""

from collections.abc import Mapping
from datetime import datetime

from lxml import etree

from mapping.oadr.codes import OadrError, ResponseCode
from mapping.oadr.namespaces import EI, EMIX, NSMAP, OADR, PYLD, XCAL, q
from mapping.oadr.timefmt import parse_datetime, parse_duration

#: the largest finite xs:float
FLOAT_MAX = 3.4028235e38

#: each element whose text the VTN stores (Clark name) → the store column that holds it ("table.column")
STORED_TEXT: dict[str, str] = {
    q(EI, "venID"): "ven.ven_id",
    q(OADR, "oadrVenName"): "ven.ven_name",
    q(EI, "registrationID"): "ven.registration_id",
    q(PYLD, "requestID"): "event_response.request_id",
    q(EI, "eventID"): "event_response.event_id",
    q(EI, "optID"): "opt.opt_id",
    q(EI, "optReason"): "opt.opt_reason",
    q(EMIX, "marketContext"): "opt.market_context",
    q(EI, "rID"): "report_description.r_id",
    q(EI, "reportSpecifierID"): "report_description.report_specifier_id",
    q(EI, "reportName"): "report_description.report_name",
    q(EI, "reportType"): "report_description.report_type",
    q(EI, "readingType"): "report_description.reading_type",
    q(EI, "reportRequestID"): "report_point.report_request_id",
    q(OADR, "oadrDataQuality"): "report_point.data_quality",
}

#: what the identifiers are: refused as an invalid ID (452), the rest as invalid data (454)
_IDENTIFIERS = frozenset(
    q(ns, local)
    for ns, local in (
        (EI, "venID"),
        (EI, "registrationID"),
        (PYLD, "requestID"),
        (EI, "eventID"),
        (EI, "optID"),
        (EI, "rID"),
        (EI, "reportSpecifierID"),
        (EI, "reportRequestID"),
    )
)
_DURATION = q(XCAL, "duration")
_DTSTART = q(XCAL, "dtstart")
_VALUE = q(EI, "value")
_PREFIX = {namespace: prefix for prefix, namespace in NSMAP.items()}


def check_message(element: etree._Element, text_limits: Mapping[str, int]) -> None:
    """Refuse `element` (a schema-valid message) at its first value the VTN cannot hold; `text_limits` gives the
    longest text each element may carry (Clark name → characters; `STORED_TEXT`'s columns' lengths)."""
    for node in element.iter():
        tag = node.tag
        if not isinstance(tag, str):  # comments, processing instructions
            continue
        limit = text_limits.get(tag)
        if limit is not None:
            _check_length(node, tag, limit)
        elif tag == _VALUE:
            _check_float(node)
        elif tag == _DURATION and len(node) == 0:
            _check_duration(node)
        elif tag == _DTSTART:
            _check_end(node)


def field_name(tag: str) -> str:
    """`prefix:local` of a Clark name, as the specification writes it."""
    namespace, _, local = tag[1:].partition("}")
    prefix = _PREFIX.get(namespace)
    return f"{prefix}:{local}" if prefix else local


def _check_length(node: etree._Element, tag: str, limit: int) -> None:
    length = len((node.text or "").strip())
    if length > limit:
        code = ResponseCode.INVALID_ID if tag in _IDENTIFIERS else ResponseCode.INVALID_DATA
        raise OadrError(code, f"{field_name(tag)} is {length} characters long; at most {limit} are accepted")


def _check_float(node: etree._Element) -> None:
    try:
        value = float((node.text or "").strip())
    except ValueError:
        return  # not a number at all: the decoder refuses it, naming what it is
    if value == value and abs(value) != float("inf") and abs(value) > FLOAT_MAX:
        raise OadrError(
            ResponseCode.INVALID_DATA, f"ei:value {(node.text or '').strip()} is beyond the range of xs:float (±{FLOAT_MAX:g})"
        )


def _check_duration(node: etree._Element) -> None:
    text = (node.text or "").strip()
    if text and parse_duration(text).total_seconds() < 0:
        parent = node.getparent()
        where = f" of {field_name(parent.getparent().tag)}" if parent is not None and parent.getparent() is not None else ""
        raise OadrError(ResponseCode.INVALID_DATA, f"xcal:duration {text}{where} is negative; a duration cannot be")


def _check_end(dtstart: etree._Element) -> None:
    """A time and the duration beside it (an interval, a report, an availability window) must end by year 9999."""
    start_text = dtstart.findtext("xcal:date-time", namespaces=NSMAP)
    holder = dtstart.getparent()
    duration_text = holder.findtext("xcal:duration/xcal:duration", namespaces=NSMAP) if holder is not None else None
    if not start_text or not duration_text:
        return
    start = parse_datetime(start_text)
    try:
        start + parse_duration(duration_text)
    except OverflowError:
        raise OadrError(
            ResponseCode.INVALID_DATA,
            f"xcal:dtstart {start_text.strip()} plus xcal:duration {duration_text.strip()} ends after {datetime.max.year}",
        ) from None
