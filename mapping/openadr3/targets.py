"""3.x targets → a 2.0b eiTarget.

3.0.1 targets are valuesMaps (`{"type": "GROUP", "values": [...]}`); 3.1 targets are plain strings.
Groups, zones (configured as groups) and resources stay names in the 2.0b target, so the VTN resolves
them to VENs at delivery time and a VEN that registers later still gets the event. A VEN name is
resolved to its venID now (2.0b targets name VENs by venID): an unknown VEN name is refused.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mapping.oadr import model as m
from mapping.openadr3 import wire
from mapping.refusal import Refused

#: 3.0.1 target types we carry, and the 2.0b target field each one fills
TARGET_TYPES = {
    "VEN_NAME": "ven",
    "GROUP": "group",
    "SERVICE_AREA": "group",
    "POWER_SERVICE_LOCATION": "group",
    "RESOURCE_NAME": "resource",
}


@dataclass(frozen=True)
class Directory:
    """Who can be targeted: group ids (zones included), resource ids, and venIDs by VEN name."""

    groups: frozenset[str] = frozenset()
    resources: frozenset[str] = frozenset()
    ven_ids_by_name: Mapping[str, str] = field(default_factory=dict)


def _resolve(kind: str, value: str, directory: Directory, where: str, out: dict[str, list[str]]) -> None:
    if kind == "ven":
        ven_id = directory.ven_ids_by_name.get(value)
        if ven_id is None:
            raise Refused(where, f"no VEN named {value!r} has registered")
        out["ven_ids"].append(ven_id)
    elif kind == "group":
        if value not in directory.groups:
            raise Refused(where, f"{value!r} is not a configured group or zone")
        out["group_ids"].append(value)
    else:
        if value not in directory.resources:
            raise Refused(where, f"{value!r} is not a configured resource")
        out["resource_ids"].append(value)


def _guess(value: str, directory: Directory) -> str | None:
    if value in directory.groups:
        return "group"
    if value in directory.resources:
        return "resource"
    if value in directory.ven_ids_by_name:
        return "ven"
    return None


def _check_targets(value: Any, version: str, field_name: str = "targets") -> list[Any]:
    """The targets' shape per version (3.0.1 valuesMaps of strings, 3.1 strings), nulls dropped."""
    items = wire.array(value, field_name)
    clean: list[Any] = []
    for i, item in enumerate(items):
        where = f"{field_name}[{i}]"
        if version == "3.0.1":
            item = wire.obj(item, where)
            target_type = wire.string(item.get("type"), f"{where}.type", required=True)
            if item.get("values") is None:
                raise Refused(f"{where}.values", "is required")
            values = wire.array(item["values"], f"{where}.values")
            for j, v in enumerate(values):
                if not isinstance(v, str) or not v:
                    raise Refused(f"{where}.values[{j}]", "a target value must be a non-empty string")
            clean.append({"type": target_type, "values": list(values)})
        else:
            clean.append(wire.string(item, where, required=True))
    return clean


def _to_oadr_target(targets: list[Any], version: str, directory: Directory, field_name: str = "targets") -> m.Target:
    """The 2.0b target for checked 3.x targets (empty = every VEN)."""
    out: dict[str, list[str]] = {"ven_ids": [], "group_ids": [], "resource_ids": []}
    for i, item in enumerate(targets):
        where = f"{field_name}[{i}]"
        if version == "3.0.1":
            kind = TARGET_TYPES.get(item["type"])
            if kind is None:
                raise Refused(
                    f"{where}.type", f"target type {item['type']!r} cannot be carried (accepted: {', '.join(TARGET_TYPES)})"
                )
            for j, value in enumerate(item.get("values") or []):
                _resolve(kind, value, directory, f"{where}.values[{j}]", out)
        else:
            kind = _guess(item, directory)
            if kind is None:
                raise Refused(where, f"{item!r} names no configured group, zone or resource and no registered VEN")
            _resolve(kind, item, directory, where, out)
    return m.Target(**{k: tuple(dict.fromkeys(v)) for k, v in out.items()})
