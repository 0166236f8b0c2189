"""InfluxDB 1.x line protocol: one point per line, `measurement[,tag=value…] field=value[,…] timestamp`.

Pure: the VEN's InfluxDB sink (ven/influx_sink.py) formats its points here and does the I/O itself.

Escaping, as InfluxDB 1.x parses it (its line protocol reference, and `models/points.go` of 1.6):

- measurement: comma and space get a backslash;
- tag keys, tag values and field keys: comma, equals sign and space get a backslash;
- string field values are double-quoted, with `"` and `\\` backslash-escaped;
- a newline cannot be escaped anywhere (it ends the point), and a name ending in a backslash would escape the
  separator after it: both are refused, naming the part, rather than written as a different point.

Field values: a float (`1.5`, always with a decimal point or exponent, so that InfluxDB types the field as float
whatever the value), an integer with the `i` suffix, a boolean as `true`/`false`, a string quoted. NaN and
infinities have no line-protocol form: refused. A tag whose value is empty is left out (InfluxDB refuses empty tag
values); tags are sorted by key, as InfluxDB recommends.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from mapping.refusal import Refused

#: the `precision=` values of /write this module formats, and how many nanoseconds one unit is
PRECISIONS: dict[str, int] = {"s": 1_000_000_000, "ms": 1_000_000, "u": 1_000, "ns": 1}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

FieldValue = float | int | bool | str


@dataclass(frozen=True)
class Point:
    """One point: where it goes (measurement, tags), what it says (fields) and when (timezone-aware)."""

    measurement: str
    tags: Mapping[str, str]
    fields: Mapping[str, FieldValue]
    at: datetime


def _checked(text: str, part: str) -> str:
    if not text:
        raise Refused(part, "must not be empty")
    if "\n" in text or "\r" in text:
        raise Refused(part, f"{text!r} holds a line break, which line protocol cannot carry")
    if text.endswith("\\"):
        raise Refused(part, f"{text!r} ends with a backslash, which would escape the separator after it")
    return text


def escape_measurement(name: str) -> str:
    """A measurement name with its commas and spaces escaped."""
    return _checked(name, "measurement").replace(",", "\\,").replace(" ", "\\ ")


def escape_key(text: str, part: str = "key") -> str:
    """A tag key, tag value or field key with its commas, equals signs and spaces escaped; `part` names it in a
    refusal."""
    return _checked(text, part).replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


def format_field_value(value: FieldValue, part: str = "field") -> str:
    """One field value in its line-protocol form (see the module docstring)."""
    if isinstance(value, bool):  # before int: a bool is an int in Python
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}i"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise Refused(part, f"{value!r} is not a finite number")
        text = repr(value)
        return text if "." in text or "e" in text else text + ".0"
    if isinstance(value, str):
        if "\n" in value or "\r" in value:
            raise Refused(part, "a string value holding a line break cannot be written")
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise Refused(part, f"{type(value).__name__} is not a line-protocol field type (float, int, bool or str)")


def timestamp(at: datetime, precision: str) -> int:
    """`at` as an integer count of `precision` units since the Unix epoch (floored), computed exactly."""
    if at.tzinfo is None:
        raise Refused("timestamp", f"{at.isoformat()} has no time zone")
    if precision not in PRECISIONS:
        raise Refused("precision", f"{precision!r} is not one of {', '.join(PRECISIONS)}")
    delta = at - _EPOCH
    nanoseconds = (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000
    return nanoseconds // PRECISIONS[precision]


def format_point(point: Point, precision: str) -> str:
    """One point as a line (without its newline), its timestamp in `precision` units."""
    if not point.fields:
        raise Refused("fields", "a point needs at least one field")
    key = escape_measurement(point.measurement)
    for name, value in sorted(point.tags.items()):
        if value:
            key += f",{escape_key(name, f'tag key {name!r}')}={escape_key(value, f'tag {name}')}"
    fields = ",".join(
        f"{escape_key(name, f'field key {name!r}')}={format_field_value(value, f'field {name}')}"
        for name, value in point.fields.items()
    )
    return f"{key} {fields} {timestamp(point.at, precision)}"
