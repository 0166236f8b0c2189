"""Small element helpers the 2.0b decoders and encoders share."""

from datetime import datetime, timedelta

from lxml import etree

from mapping.oadr.codes import OadrError, ResponseCode
from mapping.oadr.namespaces import NSMAP, XCAL, q
from mapping.oadr.timefmt import format_duration, parse_datetime, parse_duration


def text(element: etree._Element, path: str) -> str | None:
    """Stripped text at `path` (prefixes of NSMAP), or None when absent."""
    found = element.findtext(path, namespaces=NSMAP)
    return found.strip() if found is not None else None


def required(element: etree._Element, path: str) -> str:
    """Text at `path`, refused with 400 when absent."""
    value = text(element, path)
    if value is None:
        raise OadrError(ResponseCode.BAD_REQUEST, f"{path} is missing")
    return value


def optional_duration(element: etree._Element, path: str) -> timedelta | None:
    """The duration at `path`, or None when absent."""
    value = text(element, path)
    return parse_duration(value) if value else None


def optional_datetime(element: etree._Element, path: str) -> datetime | None:
    """The date-time at `path`, or None when absent."""
    value = text(element, path)
    return parse_datetime(value) if value else None


def boolean(value: str | None) -> bool:
    """xs:boolean (true/1)."""
    return (value or "").strip().lower() in ("true", "1")


def number(value: str | None, what: str) -> float:
    """A finite float; NaN, infinities and non-numbers are refused with 454."""
    try:
        result = float(value) if value is not None else 0.0
    except ValueError as exc:
        raise OadrError(ResponseCode.INVALID_DATA, f"{what} {value!r} is not a number") from exc
    if result != result or result in (float("inf"), float("-inf")):
        raise OadrError(ResponseCode.INVALID_DATA, f"{what} {value!r} is not a finite number")
    return result


def sub(parent: etree._Element, ns: str, local: str, value: str | None = None) -> etree._Element:
    """Append a child element, with text when given."""
    child = etree.SubElement(parent, q(ns, local))
    if value is not None:
        child.text = value
    return child


def sub_duration(parent: etree._Element, ns: str, local: str, value: timedelta) -> None:
    """Append `<ns:local><xcal:duration>…</xcal:duration></ns:local>`."""
    sub(sub(parent, ns, local), XCAL, "duration", format_duration(value))


def format_number(value: float) -> str:
    """A float as xs:float text without a trailing `.0`."""
    rendered = repr(float(value))
    return rendered[:-2] if rendered.endswith(".0") else rendered
