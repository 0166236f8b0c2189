"""3.x events: read leniently (nulls are absent), translate to a 2.0b event draft, render strictly.

How a 3.x event becomes 2.0b:
- the start is `intervalPeriod.start` (of the event, else of the first interval); intervals follow one
  another, each lasting its own `intervalPeriod.duration` or the event's; 2.0b intervals are contiguous,
  so an interval starting anywhere but where the previous one ended is refused;
- each payload type becomes one 2.0b signal (see `payloads`); every interval must carry every type,
  with exactly one number (2.0b has one value per interval and signal);
- `priority` p becomes 2.0b priority p + 1 (3.x: 0 is the highest; 2.0b: 1 is the highest, 0 is none);
- `intervalPeriod.randomizeStart` becomes 2.0b `startafter`; `eventName` becomes the vtnComment;
- targets: see `targets`. `reportDescriptors` are refused (2.0b VENs report what the VTN's own
  report requests ask for); 3.1's looping `duration` is refused unless it equals the intervals' sum.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mapping.oadr import model as m
from mapping.openadr3 import shapes, wire
from mapping.openadr3.payloads import _signal_kind
from mapping.openadr3.targets import Directory, _check_targets, _to_oadr_target
from mapping.refusal import Refused

#: members the server provisions: ignored on input (POST and PUT)
SERVER_FIELDS = ("id", "createdDateTime", "modificationDateTime", "objectType", "clientID")
#: members of an event a request may carry (3.1 adds `duration`)
EVENT_MEMBERS = frozenset(
    {*SERVER_FIELDS, "programID", "eventName", "priority", "targets", "reportDescriptors", "payloadDescriptors", "intervalPeriod"}
    | {"intervals", "duration"}
)
INTERVAL_MEMBERS = frozenset({"id", "intervalPeriod", "payloads"})
#: largest magnitude carried (2.0b payloads are xs:float)
MAX_VALUE = 1e12
#: most intervals in one event
MAX_INTERVALS = 10_000


@dataclass(frozen=True)
class ProgramView:
    """What the translation needs of the event's program."""

    market_context: str
    capacity_signal: str = "x-IMPORT_CAPACITY_LIMIT"
    currency: str = "EUR"
    payload_descriptors: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Draft:
    """The 2.0b side of a 3.x event: what `vtn.admin.events.draft_event` needs."""

    market_context: str
    dtstart: datetime
    signals: tuple[m.Signal, ...]
    target: m.Target
    priority: int | None
    start_after: timedelta | None
    vtn_comment: str | None


def _interval(value: Any, field: str) -> dict[str, Any]:
    item = wire.obj(value, field)
    wire.refuse_unknown(item, INTERVAL_MEMBERS, f"{field}.")
    interval_id = wire.integer(item.get("id"), f"{field}.id")
    if interval_id is None:
        raise Refused(f"{field}.id", "is required")
    if not -(2**31) <= interval_id < 2**31:
        raise Refused(f"{field}.id", "must be a 32-bit integer")
    clean: dict[str, Any] = {"id": interval_id}
    if item.get("intervalPeriod") is not None:
        clean["intervalPeriod"] = shapes.interval_period(item["intervalPeriod"], f"{field}.intervalPeriod", start_required=False)
    payloads = item.get("payloads")
    if payloads is None:
        raise Refused(f"{field}.payloads", "is required")
    clean["payloads"] = [
        shapes.values_map(p, f"{field}.payloads[{j}]") for j, p in enumerate(wire.array(payloads, f"{field}.payloads"))
    ]
    return clean


def clean_event(body: Any, version: str, current: dict[str, Any] | None = None) -> dict[str, Any]:
    """The event as stored: shape checked, nulls and server-provisioned members dropped, times in UTC.

    `current` (a 3.1 PUT: the stored event): 3.1 makes `intervals` optional, and a null or absent optional
    member takes the VTN's default; here that default is the event's stored intervals (and, when the body
    has no intervalPeriod either, its stored intervalPeriod), since a 2.0b event cannot be without intervals.
    """
    event = wire.obj(body, "body")
    wire.refuse_unknown(event, EVENT_MEMBERS)
    clean: dict[str, Any] = {"programID": wire.object_id(event.get("programID"), "programID")}
    if event.get("eventName") is not None:
        clean["eventName"] = wire.string(event["eventName"], "eventName", max_length=1024)
    if event.get("priority") is not None:
        clean["priority"] = wire.integer(event["priority"], "priority", minimum=0)
    if event.get("targets") is not None:
        clean["targets"] = _check_targets(event["targets"], version)
    if event.get("duration") is not None:
        if version == "3.0.1":
            raise Refused("duration", "not a 3.0.1 event member")
        wire.duration(event["duration"], "duration")
        clean["duration"] = event["duration"]
    if event.get("reportDescriptors"):
        raise Refused("reportDescriptors", "cannot be carried: 2.0b VENs report what the VTN's report requests ask for")
    if event.get("payloadDescriptors") is not None:
        clean["payloadDescriptors"] = shapes.descriptors(event["payloadDescriptors"], "payloadDescriptors")
        for i, descriptor in enumerate(clean["payloadDescriptors"]):
            if descriptor.get("objectType", "EVENT_PAYLOAD_DESCRIPTOR") != "EVENT_PAYLOAD_DESCRIPTOR":
                raise Refused(f"payloadDescriptors[{i}].objectType", "an event carries EVENT_PAYLOAD_DESCRIPTORs")
    if event.get("intervalPeriod") is not None:
        clean["intervalPeriod"] = shapes.interval_period(event["intervalPeriod"], "intervalPeriod")
    intervals = event.get("intervals")
    if intervals is None and current is not None and version != "3.0.1" and current.get("intervals"):
        clean["intervals"] = current["intervals"]
        if "intervalPeriod" not in clean and "intervalPeriod" in current:
            clean["intervalPeriod"] = current["intervalPeriod"]
        return clean
    if intervals is None:
        raise Refused("intervals", "is required (2.0b events carry at least one interval)")
    intervals = wire.array(intervals, "intervals")
    if len(intervals) > MAX_INTERVALS:
        raise Refused("intervals", f"at most {MAX_INTERVALS} intervals")
    clean["intervals"] = [_interval(item, f"intervals[{i}]") for i, item in enumerate(intervals)]
    return clean


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Refused(field, "2.0b carries one number per interval and signal")
    number = float(value)
    if not math.isfinite(number) or abs(number) > MAX_VALUE:
        raise Refused(field, f"must be a finite number of magnitude at most {MAX_VALUE:g}")
    return number


def timeline(clean: dict[str, Any]) -> tuple[datetime, list[timedelta]]:
    """Start of the event and the duration of each interval (checked contiguous and positive)."""
    top = clean.get("intervalPeriod", {})
    intervals = clean["intervals"]
    if not intervals:
        raise Refused("intervals", "at least one interval is needed")
    first = intervals[0].get("intervalPeriod", {})
    start_text = first.get("start") or top.get("start")
    if start_text is None:
        raise Refused("intervalPeriod.start", "the event needs a start (intervalPeriod.start)")
    start = wire.date_time(start_text, "intervalPeriod.start")
    cursor, durations = start, []
    for i, interval in enumerate(intervals):
        period = interval.get("intervalPeriod", {})
        field = f"intervals[{i}].intervalPeriod"
        if period.get("start") is not None and wire.date_time(period["start"], f"{field}.start") != cursor:
            raise Refused(f"{field}.start", "2.0b intervals are contiguous: each starts where the previous one ends")
        text = period.get("duration") or top.get("duration")
        if text is None:
            raise Refused(f"{field}.duration", "no duration for this interval (nor intervalPeriod.duration for the event)")
        length = wire.duration(text, f"{field}.duration")
        if length <= timedelta(0):
            raise Refused(f"{field}.duration", "2.0b intervals need a positive duration (PT0S cannot be carried)")
        if length.microseconds:
            raise Refused(f"{field}.duration", "2.0b durations are whole seconds")
        durations.append(length)
        cursor = cursor + length
    return start, durations


def to_draft(clean: dict[str, Any], version: str, program: ProgramView, directory: Directory) -> Draft:
    """Translate a cleaned 3.x event to the 2.0b event it becomes (refused when it cannot be carried)."""
    dtstart, durations = timeline(clean)
    if "duration" in clean and wire.duration(clean["duration"], "duration") != sum(durations, timedelta()):
        raise Refused("duration", "looping intervals over a longer event duration cannot be carried to 2.0b")
    descriptors = {d["payloadType"]: d for d in program.payload_descriptors if isinstance(d.get("payloadType"), str)}
    descriptors.update({d["payloadType"]: d for d in clean.get("payloadDescriptors", [])})
    order = [p["type"] for p in clean["intervals"][0]["payloads"]]
    if not order:
        raise Refused("intervals[0].payloads", "at least one payload is needed")
    if len(set(order)) != len(order):
        raise Refused("intervals[0].payloads", "a payload type appears twice")
    values: dict[str, list[float]] = {t: [] for t in order}
    kinds = {}
    for j, payload_type in enumerate(order):
        where = f"payloadDescriptors[{payload_type}]" if payload_type in descriptors else f"intervals[0].payloads[{j}].type"
        kinds[payload_type] = _signal_kind(
            payload_type, descriptors.get(payload_type), program.capacity_signal, program.currency, where
        )
    for i, interval in enumerate(clean["intervals"]):
        types = [p["type"] for p in interval["payloads"]]
        if sorted(types) != sorted(order):
            raise Refused(
                f"intervals[{i}].payloads",
                f"carries {types}; every interval must carry {order} (2.0b signals cover the same window)",
            )
        for j, payload in enumerate(interval["payloads"]):
            field = f"intervals[{i}].payloads[{j}].values"
            if len(payload["values"]) != 1:
                raise Refused(field, "exactly one value per interval (2.0b carries one)")
            kind = kinds[payload["type"]]
            number = _number(payload["values"][0], f"{field}[0]")
            if kind.levels is not None and number not in kind.levels:
                raise Refused(f"{field}[0]", f"a {payload['type']} level is one of {list(kind.levels)}")
            values[payload["type"]].append(number * kind.factor)
    signals = tuple(
        m.Signal(
            name=kinds[t].name,
            type=kinds[t].type,
            signal_id=kinds[t].signal_id,
            unit=kinds[t].unit,
            intervals=tuple(
                m.Interval(duration=d, value=v, uid=k) for k, (d, v) in enumerate(zip(durations, values[t], strict=True))
            ),
        )
        for t in order
    )
    randomize = clean.get("intervalPeriod", {}).get("randomizeStart")
    start_after = wire.duration(randomize, "intervalPeriod.randomizeStart") if randomize else None
    if start_after is not None and (start_after < timedelta(0) or start_after.microseconds):
        raise Refused("intervalPeriod.randomizeStart", "must be a positive whole number of seconds")
    priority = clean.get("priority")
    return Draft(
        market_context=program.market_context,
        dtstart=dtstart,
        signals=signals,
        target=_to_oadr_target(clean.get("targets", []), version, directory),
        priority=None if priority is None else priority + 1,
        start_after=start_after or None,
        vtn_comment=clean.get("eventName"),
    )


def render_event(clean: dict[str, Any], event_id: str, created: datetime, modified: datetime, version: str) -> dict[str, Any]:
    """The event as `version`'s responses carry it: metadata, objectType, every intervalPeriod with start and duration."""
    dtstart, durations = timeline(clean)
    top = clean.get("intervalPeriod") or {"start": wire.out_time(dtstart), "duration": wire.out_duration(durations[0])}
    intervals, cursor = [], dtstart
    for interval, length in zip(clean["intervals"], durations, strict=True):
        period = interval.get("intervalPeriod")
        if period is not None:
            interval = {
                **interval,
                "intervalPeriod": {**period, "start": wire.out_time(cursor), "duration": wire.out_duration(length)},
            }
        intervals.append(interval)
        cursor += length
    body = {
        "id": event_id,
        "createdDateTime": wire.out_time(created),
        "modificationDateTime": wire.out_time(modified),
        "objectType": "EVENT",
        **clean,
        "intervalPeriod": {"duration": "PT0S", **top},
        "intervals": intervals,
    }
    if "targets" in body:
        body["targets"] = shapes.targets_out(body["targets"], version)
    if "payloadDescriptors" in body:
        body["payloadDescriptors"] = shapes.descriptors_out(body["payloadDescriptors"], version)
    if version == "3.0.1":
        body.pop("duration", None)
    return body
