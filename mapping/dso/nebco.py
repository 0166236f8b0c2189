"""RTE balancing / NEBCO order (mainland France): a consumption change per 15-minute step over a window.

Input: `{"order_id": "...", "start": "...", "end": "...", "delta_kw": [-120, -120, -80, …]}` (one value
per quarter hour of the window, or one value for all; negative = consume less) and an optional
`zone`. Becomes LOAD_DISPATCH delta (kW) on the configured program. The kW are the whole target's (the
zone, else the configured zones, else every site): each registered site that can move gets an event
`nebco-<order_id>-<site>` with its share of every step, by available flexibility (`mapping.dso.zones`).
"""

from typing import Any

from mapping.dso.common import AdapterSettings, EventSpec, Translation, message_id, number, window
from mapping.dso.zones import ZoneDirectory, delta_shares, moving, notes, per_site
from mapping.oadr import model as m
from mapping.oadr.vocabulary import power_kw
from mapping.openadr3 import wire
from mapping.refusal import Refused


def translate(body: Any, settings: AdapterSettings, directory: ZoneDirectory) -> Translation:
    """One order → one LOAD_DISPATCH delta event per registered site of its target, carrying the site's share."""
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
    zones, field = settings.zones, "body"
    if body.get("zone") is not None:
        zone = wire.string(body["zone"], "zone")
        if zone not in directory.zones:
            raise Refused("zone", f"{zone!r} is not a configured zone or group")
        zones, field = (str(zone),), "zone"
    sites, unregistered = directory.sites_of(zones, field)
    per_step = [delta_shares(v, sites) for v in (values * count if len(values) == 1 else values)]
    template = EventSpec(
        key=f"nebco-{msg}",
        program_id=settings.program_id,
        start=start,
        signal_name="LOAD_DISPATCH",
        signal_type="delta",
        values=(),
        unit=power_kw(),
        target=m.Target(),
        comment=f"RTE NEBCO order {msg}",
    )
    asked = moving({site.name: tuple(step[site.name] for step in per_step) for site in sites})
    unmoved = tuple(site.name for site in sites if site.name not in asked)
    return Translation(message_id=msg, events=per_site(template, sites, asked), notes=notes(unregistered, unmoved))
