"""Setpoints for devices without S2, over MQTT: the topics, the schedule a device follows, its acknowledgement.
Pure: the VEN's publisher (ven/dispatch_mqtt.py) and any device (the tests', an inverter's gateway) share it.

The VEN publishes a device's whole schedule, retained at QoS 1, on `cariflex/<site>/<kind>/setpoint`:

    {"schedule_id": "site-11-20261207T1430Z-3f2a", "issued": "2026-12-07T14:29:12Z",
     "start": "2026-12-07T14:30:00Z", "resolution": "PT15M", "unit": "kW", "values": [-2.9, -3.1, 0.0, …]}

Power is consumption positive (charging), one value per quarter hour from `start`; past the last value the
device falls back to its own behaviour. A newer schedule replaces the older one whole (retained: a device
that connects later gets the current one). The device answers on `cariflex/<site>/<kind>/setpoint/ack`:

    {"schedule_id": "site-11-20261207T1430Z-3f2a", "status": "accepted"}     (or "rejected", with "reason")
"""

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from mapping.grid import QUARTER
from mapping.oadr.codes import OadrError
from mapping.oadr.timefmt import format_datetime, format_duration, parse_datetime
from mapping.refusal import Refused

TOPIC_ROOT = "cariflex"
SETPOINT = "setpoint"
ACK = "ack"
ACK_STATUSES = ("accepted", "rejected")


def setpoint_topic(site: str, kind: str) -> str:
    """Where the VEN publishes the schedule of `site`'s device of `kind`."""
    return f"{TOPIC_ROOT}/{site}/{kind}/{SETPOINT}"


def ack_topic(site: str, kind: str) -> str:
    """Where that device acknowledges it."""
    return f"{setpoint_topic(site, kind)}/{ACK}"


def is_dispatch_topic(topic: str) -> bool:
    """A setpoint or acknowledgement topic (`cariflex/<site>/<kind>/setpoint[/ack]`): no telemetry."""
    parts = topic.split("/")
    return len(parts) in (4, 5) and parts[0] == TOPIC_ROOT and parts[3] == SETPOINT and parts[4:] in ([], [ACK])


@dataclass(frozen=True)
class Setpoints:
    """One device's schedule as dispatched: kW per quarter hour from `start`, consumption positive."""

    schedule_id: str
    issued: datetime
    start: datetime
    values_kw: tuple[float, ...]

    @property
    def end(self) -> datetime:
        """When the last value ends."""
        return self.start + len(self.values_kw) * QUARTER

    def at(self, when: datetime) -> float | None:
        """The setpoint in force at `when`; None outside the schedule."""
        if not self.start <= when < self.end:
            return None
        return self.values_kw[int((when - self.start) / QUARTER)]


def new_setpoints(site: str, issued: datetime, start: datetime, values_kw: list[float]) -> Setpoints:
    """A schedule to dispatch, with an id that names the site, its start and its content (the same plan made
    twice has the same id: a device may ignore a repeat)."""
    values = tuple(round(v, 3) for v in values_kw)
    digest = hashlib.sha256(json.dumps([start.isoformat(), values]).encode()).hexdigest()[:8]
    # whole seconds: what the payload carries, so a device reads back the very schedule that was sent
    return Setpoints(f"{site}-{start.astimezone(UTC):%Y%m%dT%H%MZ}-{digest}", issued.replace(microsecond=0), start, values)


def encode_setpoints(setpoints: Setpoints) -> bytes:
    """The setpoint message's payload."""
    body = {
        "schedule_id": setpoints.schedule_id,
        "issued": format_datetime(setpoints.issued),
        "start": format_datetime(setpoints.start),
        "resolution": format_duration(QUARTER),
        "unit": "kW",
        "values": list(setpoints.values_kw),
    }
    return json.dumps(body, separators=(",", ":")).encode()


def _object(payload: bytes, what: str) -> dict[str, object]:
    try:
        body = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Refused("payload", f"the {what} is not JSON") from exc
    if not isinstance(body, dict):
        raise Refused("payload", f"the {what} is not a JSON object")
    return body


def _text(body: dict[str, object], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise Refused(name, "must be a non-empty string")
    return value


def _instant(body: dict[str, object], name: str) -> datetime:
    try:
        return parse_datetime(_text(body, name))
    except OadrError as exc:
        raise Refused(name, f"{body.get(name)!r} is not an ISO 8601 date-time such as 2026-12-07T18:00:00Z") from exc


def decode_setpoints(payload: bytes) -> Setpoints:
    """A setpoint message as a device reads it; Refused naming the field that is wrong."""
    body = _object(payload, "setpoint message")
    if body.get("unit") != "kW":
        raise Refused("unit", f"expected 'kW', got {body.get('unit')!r}")
    if body.get("resolution") != format_duration(QUARTER):
        raise Refused("resolution", f"expected {format_duration(QUARTER)!r}, got {body.get('resolution')!r}")
    values = body.get("values")
    if not isinstance(values, list) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values
    ):
        raise Refused("values", "must be a list of finite numbers (kW)")
    return Setpoints(_text(body, "schedule_id"), _instant(body, "issued"), _instant(body, "start"), tuple(map(float, values)))


@dataclass(frozen=True)
class Ack:
    """A device's answer to a schedule."""

    schedule_id: str
    status: str
    reason: str = ""


def encode_ack(ack: Ack) -> bytes:
    """The acknowledgement's payload."""
    body = {"schedule_id": ack.schedule_id, "status": ack.status} | ({"reason": ack.reason} if ack.reason else {})
    return json.dumps(body).encode()


def decode_ack(payload: bytes) -> Ack:
    """An acknowledgement as the VEN reads it; Refused naming the field that is wrong."""
    body = _object(payload, "acknowledgement")
    status = body.get("status")
    if status not in ACK_STATUSES:
        raise Refused("status", f"expected one of {', '.join(ACK_STATUSES)}, got {status!r}")
    reason = body.get("reason", "")
    return Ack(_text(body, "schedule_id"), str(status), reason if isinstance(reason, str) else str(reason))


def overdue(issued: datetime, now: datetime, timeout: timedelta) -> bool:
    """Whether a schedule issued at `issued` has waited longer than `timeout` for its acknowledgement."""
    return now - issued > timeout
