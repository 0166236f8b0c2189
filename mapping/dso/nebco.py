"""RTE balancing / NEBCO order: a consumption change per 15-minute step over a window.

Input: `{"order_id": "...", "start": "...", "end": "...", "delta_kw": [-120, -120, -80, …]}` (one value
per quarter hour of the window, or one value for all; negative = consume less) and an optional
`zone`. Becomes LOAD_DISPATCH delta (kW) on the configured program; targets the zone or the
configured zones.
"""

from typing import Any

from mapping.dso.common import AdapterSettings, EventSpec, Translation, message_id, number, window, zone_target
from mapping.oadr import model as m
from mapping.oadr.vocabulary import power_kw
from mapping.openadr3 import wire
from mapping.refusal import Refused


def translate(body: Any, settings: AdapterSettings, known_zones: frozenset[str]) -> Translation:
    """One order → one LOAD_DISPATCH delta event."""
    body = wire.obj(body, "body")
    msg = message_id(body, "order_id", "message_id")
    start, count = window(body, "start", "end")
    raw = body.get("delta_kw")
    steps = raw if isinstance(raw, list) else [raw]
    if len(steps) not in (1, count):
        raise Refused("delta_kw", f"one value, or one per quarter hour of the window ({count})")
    values = [
        number(v, f"delta_kw[{i}]" if isinstance(raw, list) else "delta_kw", -100_000, 100_000) for i, v in enumerate(steps)
    ]
    target = zone_target(settings.zones)
    if body.get("zone") is not None:
        zone = wire.string(body["zone"], "zone")
        if zone not in known_zones:
            raise Refused("zone", f"{zone!r} is not a configured zone or group")
        target = m.Target(group_ids=(zone,))
    event = EventSpec(
        key=f"nebco-{msg}",
        program_id=settings.program_id,
        start=start,
        signal_name="LOAD_DISPATCH",
        signal_type="delta",
        values=tuple(values * count if len(values) == 1 else values),
        unit=power_kw(),
        target=target,
        comment=f"RTE NEBCO order {msg}",
    )
    return Translation(message_id=msg, events=(event,))
