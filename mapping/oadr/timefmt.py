"""xcal date-times and ISO 8601 durations as 2.0b carries them. All times are UTC-aware."""

import re
from datetime import UTC, datetime, timedelta

from mapping.oadr.codes import OadrError, ResponseCode

# Tolerance: "P5M" (months, no time part) is read as minutes. The Alliance's own 2.0b samples write
# durations that way; months have no fixed length and no 2.0b exchange means them.
_MONTHS_AS_MINUTES = re.compile(r"^([+-]?)P(\d+)M$")
_DURATION = re.compile(
    r"^(?P<sign>[+-])?P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(text: str) -> timedelta:
    """Parse `PT15M`, `P1D`, `-PT5M`, `PT0S`…; years and months are refused (their length varies)."""
    value = _MONTHS_AS_MINUTES.sub(r"\1PT\2M", text.strip())
    match = _DURATION.match(value)
    if not match or value in ("P", "PT", "-P", "+P") or value.endswith("T"):
        raise OadrError(ResponseCode.INVALID_DATA, f"'{text}' is not an ISO 8601 duration such as PT15M")
    parts = {k: float(v) for k, v in match.groupdict().items() if v and k != "sign"}
    delta = timedelta(
        weeks=parts.get("weeks", 0),
        days=parts.get("days", 0),
        hours=parts.get("hours", 0),
        minutes=parts.get("minutes", 0),
        seconds=parts.get("seconds", 0),
    )
    return -delta if match.group("sign") == "-" else delta


def format_duration(delta: timedelta) -> str:
    """Format a timedelta as the shortest ISO 8601 duration (`PT1H30M`, `P1D`, `PT0S`)."""
    total = delta.total_seconds()
    sign = "-" if total < 0 else ""
    total = abs(total)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    date_part = f"{int(days)}D" if days else ""
    time_part = ""
    if hours:
        time_part += f"{int(hours)}H"
    if minutes:
        time_part += f"{int(minutes)}M"
    if seconds:
        time_part += f"{seconds:g}S"
    if not date_part and not time_part:
        return "PT0S"
    return f"{sign}P{date_part}" + (f"T{time_part}" if time_part else "")


def parse_datetime(text: str) -> datetime:
    """Parse an xcal date-time; a value without offset is taken as UTC (2.0b requires UTC)."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise OadrError(ResponseCode.INVALID_DATA, f"'{text}' is not a date-time such as 2026-11-26T18:00:00Z") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_datetime(moment: datetime) -> str:
    """Format as UTC with a `Z` suffix, milliseconds only when present (stores and JSON APIs; a 2.0b message
    uses `wire_datetime`)."""
    utc = moment.astimezone(UTC)
    if utc.microsecond:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def wire_datetime(moment: datetime) -> str:
    """The one form of a dateTime in a 2.0b message: UTC, whole seconds (the fraction dropped, never rounded up:
    a createdDateTime is never in the future), `Z` — what docs/vtn.md promises and what every VEN parses (openleadr
    and others reject or mis-read fractions)."""
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0))
