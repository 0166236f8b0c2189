"""3.x programs: read leniently, render strictly. Members outside the version's schema are not kept."""

from datetime import datetime
from typing import Any

from mapping.openadr3 import shapes, wire
from mapping.openadr3.targets import _check_targets
from mapping.refusal import Refused

_TEXT_301 = ("programLongName", "retailerName", "retailerLongName", "programType", "country", "principalSubdivision")
_BOOLS_301 = ("bindingEvents", "localPrice")


def _descriptions(value: Any, version: str) -> list[dict[str, str]]:
    out = []
    for i, item in enumerate(wire.array(value, "programDescriptions")):
        item = wire.obj(item, f"programDescriptions[{i}]")
        url = item.get("URL")
        low = 2 if version != "3.0.1" else 1
        if not isinstance(url, str) or not low <= len(url) <= 8000 or any(c.isspace() for c in url):
            raise Refused(f"programDescriptions[{i}].URL", "expected a URL")
        out.append({"URL": url})
    return out


def clean_program(body: Any, version: str) -> dict[str, Any]:
    """The program as stored: shape checked, nulls and server-provisioned members dropped, times in UTC."""
    program = wire.obj(body, "body")
    clean: dict[str, Any] = {"programName": wire.string(program.get("programName"), "programName", required=True)}
    if program.get("intervalPeriod") is not None:
        clean["intervalPeriod"] = shapes.interval_period(program["intervalPeriod"], "intervalPeriod")
    if program.get("programDescriptions") is not None:
        clean["programDescriptions"] = _descriptions(program["programDescriptions"], version)
    if program.get("payloadDescriptors") is not None:
        clean["payloadDescriptors"] = shapes.descriptors(program["payloadDescriptors"], "payloadDescriptors")
    if program.get("targets") is not None:
        clean["targets"] = _check_targets(program["targets"], version)
    if version == "3.0.1":
        for key in _TEXT_301:
            if program.get(key) is not None:
                clean[key] = wire.string(program[key], key, max_length=1024)
        for key in _BOOLS_301:
            if program.get(key) is not None:
                clean[key] = wire.boolean(program[key], key)
        if program.get("timeZoneOffset") is not None:
            wire.duration(program["timeZoneOffset"], "timeZoneOffset")
            clean["timeZoneOffset"] = program["timeZoneOffset"]
    elif program.get("attributes") is not None:
        clean["attributes"] = shapes.values_maps(program["attributes"], "attributes")
    return clean


def render_program(clean: dict[str, Any], program_id: str, created: datetime, modified: datetime, version: str) -> dict[str, Any]:
    """The program as responses carry it (members of the other version left out)."""
    body = {k: v for k, v in clean.items() if version == "3.0.1" or k not in (*_TEXT_301, *_BOOLS_301, "timeZoneOffset")}
    if version == "3.0.1":
        body.pop("attributes", None)
    if "targets" in body:
        body["targets"] = shapes.targets_out(body["targets"], version)
    if "payloadDescriptors" in body:
        body["payloadDescriptors"] = shapes.descriptors_out(body["payloadDescriptors"], version)
    if "intervalPeriod" in body:
        body["intervalPeriod"] = {"duration": "PT0S", **body["intervalPeriod"]}
    return {
        "id": program_id,
        "createdDateTime": wire.out_time(created),
        "modificationDateTime": wire.out_time(modified),
        "objectType": "PROGRAM",
        **body,
    }
