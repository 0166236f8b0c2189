"""Reading 3.x JSON leniently (an explicit null means absent) and writing it strictly (no nulls, UTC)."""

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from mapping.oadr.codes import OadrError
from mapping.oadr.timefmt import format_datetime, format_duration, parse_duration
from mapping.refusal import Refused

#: the spec's objectID pattern (and length)
OBJECT_ID = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")
VERSIONS = ("3.0.1", "3.1.0")
#: the spec's duration pattern
DURATION = re.compile(r"^(-?)P(?=\d|T\d)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)([DW]))?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def drop_nulls(value: Any) -> Any:
    """The same JSON value with every null-valued member removed, recursively."""
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


def obj(value: Any, field: str) -> dict[str, Any]:
    """A JSON object, else refused."""
    if not isinstance(value, dict):
        raise Refused(field, "expected a JSON object")
    return value


def refuse_unknown(item: dict[str, Any], known: frozenset[str], prefix: str = "") -> None:
    """Refuse the first member (not null) outside `known`: what cannot be carried is never dropped silently."""
    for key, value in item.items():
        if key not in known and value is not None:
            raise Refused(f"{prefix}{key}", "unknown member: it cannot be carried to OpenADR 2.0b")


def array(value: Any, field: str) -> list[Any]:
    """A JSON array (absent → empty), else refused."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise Refused(field, "expected a JSON array")
    return value


def string(value: Any, field: str, *, required: bool = False, max_length: int = 128) -> str | None:
    """A non-empty string of at most `max_length` characters, or None when absent and optional."""
    if value is None:
        if required:
            raise Refused(field, "is required")
        return None
    if not isinstance(value, str) or not value or len(value) > max_length:
        raise Refused(field, f"expected a string of 1 to {max_length} characters")
    return value


def object_id(value: Any, field: str, *, required: bool = True) -> str | None:
    """An objectID (letters, digits, `_` and `-`, 1–128 characters)."""
    text = string(value, field, required=required)
    if text is not None and not OBJECT_ID.match(text):
        raise Refused(field, f"{text!r} is not an objectID (letters, digits, '_' and '-')")
    return text


def integer(value: Any, field: str, *, minimum: int | None = None) -> int | None:
    """An integer (booleans refused), or None when absent."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise Refused(field, "expected an integer")
    if minimum is not None and value < minimum:
        raise Refused(field, f"must be at least {minimum}")
    return value


def boolean(value: Any, field: str) -> bool | None:
    """true/false, or None when absent."""
    if value is None:
        return None
    if not isinstance(value, bool):
        raise Refused(field, "expected true or false")
    return value


def date_time(value: Any, field: str) -> datetime:
    """An RFC 3339 date-time with an offset, in UTC."""
    if not isinstance(value, str):
        raise Refused(field, "expected a date-time such as 2026-11-26T22:00:00Z")
    text = value.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise Refused(field, f"{value!r} is not a date-time such as 2026-11-26T22:00:00Z") from exc
    if parsed.tzinfo is None:
        raise Refused(field, f"{value!r} has no UTC offset (write Z or +hh:mm)")
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:
        raise Refused(field, f"{value!r} is out of range") from exc


@lru_cache(maxsize=1024)
def _parse_duration(value: str) -> timedelta | str:
    """The duration, or why it is refused (cached: an event repeats the same few durations)."""
    match = DURATION.match(value)
    if match is None:
        return "expected an ISO 8601 duration such as PT15M"
    if int(match.group(2) or 0) or int(match.group(3) or 0):
        return f"{value!r}: years and months have no fixed length; use weeks, days, hours, minutes, seconds"
    try:
        return parse_duration(value)
    except (OadrError, OverflowError, ValueError):
        return f"{value!r} is not an ISO 8601 duration in weeks, days, hours, minutes, seconds"


def duration(value: Any, field: str) -> timedelta:
    """An ISO 8601 duration (years and months refused: their length varies)."""
    parsed = _parse_duration(value) if isinstance(value, str) and len(value) <= 64 else "expected a duration such as PT15M"
    if isinstance(parsed, str):
        raise Refused(field, parsed)
    return parsed


def out_time(moment: datetime) -> str:
    """A UTC timestamp with its offset, as responses carry them."""
    return format_datetime(moment.astimezone(UTC))


def out_duration(delta: timedelta) -> str:
    """An ISO 8601 duration as responses carry them."""
    return format_duration(delta)


def out_duration_seconds(seconds: float) -> str:
    """An ISO 8601 duration from seconds."""
    return format_duration(timedelta(seconds=seconds))
