"""Shape checks shared by 3.x objects: valuesMaps, payload descriptors, interval periods.

What passes is re-emitted as is, so everything the API echoes must pass the official schema."""

from typing import Any

from mapping.openadr3 import wire
from mapping.refusal import Refused

DESCRIPTOR_TYPES = ("EVENT_PAYLOAD_DESCRIPTOR", "REPORT_PAYLOAD_DESCRIPTOR")


def _value(value: Any, field: str) -> Any:
    if isinstance(value, bool | int | float | str):
        if isinstance(value, float) and value != value:
            raise Refused(field, "NaN is not a value")
        return value
    point = wire.obj(value, field)
    for axis in ("x", "y"):
        if isinstance(point.get(axis), bool) or not isinstance(point.get(axis), int | float):
            raise Refused(f"{field}.{axis}", "a point needs numbers x and y")
    return {"x": point["x"], "y": point["y"]}


def values_map(value: Any, field: str) -> dict[str, Any]:
    """A valuesMap: `type` (1–128 characters) and `values` (numbers, strings, booleans or points)."""
    item = wire.obj(value, field)
    if item.get("values") is None:
        raise Refused(f"{field}.values", "is required")
    return {
        "type": wire.string(item.get("type"), f"{field}.type", required=True),
        "values": [_value(v, f"{field}.values[{i}]") for i, v in enumerate(wire.array(item["values"], f"{field}.values"))],
    }


def values_maps(value: Any, field: str) -> list[dict[str, Any]]:
    """A list of valuesMaps."""
    return [values_map(v, f"{field}[{i}]") for i, v in enumerate(wire.array(value, field))]


def descriptor(value: Any, field: str) -> dict[str, Any]:
    """An event or report payload descriptor (nulls dropped)."""
    item = wire.drop_nulls(wire.obj(value, field))
    clean: dict[str, Any] = {"payloadType": wire.string(item.get("payloadType"), f"{field}.payloadType", required=True)}
    if "objectType" in item:
        if item["objectType"] not in DESCRIPTOR_TYPES:
            raise Refused(f"{field}.objectType", f"expected one of {', '.join(DESCRIPTOR_TYPES)}")
        clean["objectType"] = item["objectType"]
    for key in ("units", "currency", "readingType"):
        if key in item:
            clean[key] = wire.string(item[key], f"{field}.{key}")
    if "accuracy" in item:
        if isinstance(item["accuracy"], bool) or not isinstance(item["accuracy"], int | float):
            raise Refused(f"{field}.accuracy", "expected a number")
        clean["accuracy"] = item["accuracy"]
    if "confidence" in item:
        confidence = wire.integer(item["confidence"], f"{field}.confidence", minimum=0)
        if confidence is not None and confidence > 100:
            raise Refused(f"{field}.confidence", "at most 100")
        clean["confidence"] = confidence
    return clean


def descriptors(value: Any, field: str) -> list[dict[str, Any]]:
    """A list of payload descriptors."""
    return [descriptor(v, f"{field}[{i}]") for i, v in enumerate(wire.array(value, field))]


def interval_period(value: Any, field: str, *, start_required: bool = True) -> dict[str, Any]:
    """An intervalPeriod: start (re-written in UTC), duration, randomizeStart."""
    period = wire.obj(value, field)
    clean: dict[str, Any] = {}
    if period.get("start") is not None or start_required:
        clean["start"] = wire.out_time(wire.date_time(period.get("start"), f"{field}.start"))
    for key in ("duration", "randomizeStart"):
        if period.get(key) is not None:
            wire.duration(period[key], f"{field}.{key}")
            clean[key] = period[key]
    return clean


def _descriptor_type(descriptor: dict[str, Any], default: str) -> str:
    if descriptor.get("objectType") in DESCRIPTOR_TYPES:
        return descriptor["objectType"]
    report_only = ("readingType", "accuracy", "confidence")
    return "REPORT_PAYLOAD_DESCRIPTOR" if any(k in descriptor for k in report_only) else default


def descriptors_out(items: list[dict[str, Any]], version: str, default: str = "EVENT_PAYLOAD_DESCRIPTOR") -> list[dict[str, Any]]:
    """Descriptors as a version's responses carry them: 3.1 requires objectType, 3.0.1 may leave it out."""
    if version == "3.0.1":
        return items
    return [{**d, "objectType": _descriptor_type(d, default)} for d in items]


def targets_out(targets: list[Any], version: str) -> list[Any]:
    """Targets in the version's form (an object created through the other version may be read through this one)."""
    if version == "3.0.1":
        strings = [t for t in targets if isinstance(t, str)]
        maps = [t for t in targets if isinstance(t, dict)]
        return maps + ([{"type": "GROUP", "values": strings}] if strings else [])
    return [v for t in targets for v in ((t.get("values") or []) if isinstance(t, dict) else [t])]
