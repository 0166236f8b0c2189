"""Events as plain JSON-able dicts (for stores and APIs), losslessly to and from the wire model."""

from datetime import timedelta
from typing import Any

from mapping.oadr import model as m
from mapping.oadr import report_model as r
from mapping.oadr.timefmt import format_datetime, parse_datetime


def _seconds(value: timedelta | None) -> float | None:
    return value.total_seconds() if value is not None else None


def _delta(value: float | None) -> timedelta | None:
    return timedelta(seconds=value) if value is not None else None


def target_to_json(target: m.Target) -> dict[str, list[str]]:
    """Target → {"ven_ids": [...], ...} (empty lists left out)."""
    fields = ("ven_ids", "group_ids", "resource_ids", "party_ids", "end_device_assets")
    return {f: list(getattr(target, f)) for f in fields if getattr(target, f)}


def target_from_json(data: dict[str, Any] | None) -> m.Target:
    """Inverse of `target_to_json`."""
    data = data or {}
    return m.Target(
        **{
            k: tuple(str(v) for v in data.get(k, ()))
            for k in ("ven_ids", "group_ids", "resource_ids", "party_ids", "end_device_assets")
        }
    )


def unit_to_json(unit: m.ItemUnit | None) -> dict[str, Any] | None:
    """ItemUnit → dict."""
    if unit is None:
        return None
    data: dict[str, Any] = {"kind": unit.kind, "description": unit.description, "units": unit.units, "scale": unit.scale}
    if unit.power is not None:
        data["power"] = {"hertz": unit.power.hertz, "voltage": unit.power.voltage, "ac": unit.power.ac}
    return data


def unit_from_json(data: dict[str, Any] | None) -> m.ItemUnit | None:
    """Inverse of `unit_to_json`."""
    if not data:
        return None
    power = data.get("power")
    return m.ItemUnit(
        kind=data["kind"],
        description=data.get("description", ""),
        units=data.get("units", ""),
        scale=data.get("scale", "none"),
        power=m.PowerAttributes(**power) if power else None,
    )


def signal_to_json(signal: m.Signal) -> dict[str, Any]:
    """Signal → dict."""
    return {
        "name": signal.name,
        "type": signal.type,
        "signal_id": signal.signal_id,
        "unit": unit_to_json(signal.unit),
        "target": target_to_json(signal.target) if signal.target is not None else None,
        "intervals": [
            {"duration_s": i.duration.total_seconds(), "value": i.value, "uid": i.uid}
            | ({"dtstart": format_datetime(i.dtstart)} if i.dtstart else {})
            for i in signal.intervals
        ],
    }


def signal_from_json(data: dict[str, Any]) -> m.Signal:
    """Inverse of `signal_to_json`."""
    return m.Signal(
        name=data["name"],
        type=data["type"],
        signal_id=data["signal_id"],
        unit=unit_from_json(data.get("unit")),
        target=target_from_json(data["target"]) if data.get("target") is not None else None,
        intervals=tuple(
            m.Interval(
                duration=timedelta(seconds=i["duration_s"]),
                value=float(i["value"]),
                uid=int(i["uid"]),
                dtstart=parse_datetime(i["dtstart"]) if i.get("dtstart") else None,
            )
            for i in data["intervals"]
        ),
    )


def event_to_json(event: m.Event) -> dict[str, Any]:
    """Event → dict (times as UTC strings, durations in seconds)."""
    return {
        "event_id": event.event_id,
        "modification_number": event.modification_number,
        "modification_datetime": format_datetime(event.modification_datetime) if event.modification_datetime else None,
        "modification_reason": event.modification_reason,
        "market_context": event.market_context,
        "created": format_datetime(event.created),
        "status": event.status,
        "priority": event.priority,
        "test_event": event.test_event,
        "vtn_comment": event.vtn_comment,
        "dtstart": format_datetime(event.dtstart),
        "duration_s": event.duration.total_seconds(),
        "start_after_s": _seconds(event.start_after),
        "notification_s": _seconds(event.notification),
        "ramp_up_s": _seconds(event.ramp_up),
        "recovery_s": _seconds(event.recovery),
        "response_required": event.response_required,
        "signals": [signal_to_json(s) for s in event.signals],
        "baseline": signal_to_json(event.baseline) if event.baseline else None,
        "target": target_to_json(event.target),
    }


def event_from_json(data: dict[str, Any]) -> m.Event:
    """Inverse of `event_to_json`."""
    return m.Event(
        event_id=data["event_id"],
        modification_number=int(data["modification_number"]),
        modification_datetime=parse_datetime(data["modification_datetime"]) if data.get("modification_datetime") else None,
        modification_reason=data.get("modification_reason"),
        market_context=data["market_context"],
        created=parse_datetime(data["created"]),
        status=data["status"],
        priority=data.get("priority"),
        test_event=data.get("test_event", "false"),
        vtn_comment=data.get("vtn_comment"),
        dtstart=parse_datetime(data["dtstart"]),
        duration=timedelta(seconds=data["duration_s"]),
        start_after=_delta(data.get("start_after_s")),
        notification=_delta(data.get("notification_s")),
        ramp_up=_delta(data.get("ramp_up_s")),
        recovery=_delta(data.get("recovery_s")),
        response_required=data.get("response_required", "always"),
        signals=tuple(signal_from_json(s) for s in data["signals"]),
        baseline=signal_from_json(data["baseline"]) if data.get("baseline") else None,
        target=target_from_json(data.get("target")),
    )


def report_request_to_json(request: r.ReportRequest) -> dict[str, Any]:
    """ReportRequest → dict."""
    return {
        "report_request_id": request.report_request_id,
        "report_specifier_id": request.report_specifier_id,
        "granularity_s": request.granularity.total_seconds(),
        "report_back_s": request.report_back.total_seconds(),
        "interval_start": format_datetime(request.interval_start) if request.interval_start else None,
        "interval_duration_s": _seconds(request.interval_duration),
        "payloads": [{"r_id": p.r_id, "reading_type": p.reading_type} for p in request.payloads],
    }


def report_request_from_json(data: dict[str, Any]) -> r.ReportRequest:
    """Inverse of `report_request_to_json`."""
    return r.ReportRequest(
        report_request_id=data["report_request_id"],
        report_specifier_id=data["report_specifier_id"],
        granularity=timedelta(seconds=data["granularity_s"]),
        report_back=timedelta(seconds=data["report_back_s"]),
        interval_start=parse_datetime(data["interval_start"]) if data.get("interval_start") else None,
        interval_duration=_delta(data.get("interval_duration_s")),
        payloads=tuple(r.SpecifierPayload(p["r_id"], p.get("reading_type", "x-notApplicable")) for p in data["payloads"]),
    )
