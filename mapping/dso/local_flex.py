"""Enedis-style local flexibility activation (mainland France): a zone (poste source / feeder), a window,
kW, a direction, and whether the kW are a limit or a change (delta).

Input: `{"activation_id": "...", "zone": "poste-lamentin", "start": "...", "end": "...", "power_kw": 40,
"direction": "IMPORT" | "EXPORT", "mode": "LIMIT" | "DELTA"}`; start and end carry an offset and lie on
the 15-minute grid. LIMIT/IMPORT → x-IMPORT_CAPACITY_LIMIT setpoint, LIMIT/EXPORT →
x-EXPORT_CAPACITY_LIMIT setpoint, DELTA/IMPORT → LOAD_DISPATCH delta −kW (consume less),
DELTA/EXPORT → LOAD_DISPATCH delta +kW (export less, i.e. the site's net load rises). The zone must be
configured (`[dso.zones]` or `[groups]`). The kW are the zone's: each registered site of the zone gets
an event `flex-<activation_id>-<site>` with its share, by available flexibility (`mapping.dso.zones`) —
for a DELTA, only the sites that can move in its direction.
"""

from typing import Any

from mapping.dso.common import AdapterSettings, EventSpec, Translation, message_id, number, window
from mapping.dso.zones import EXPORT, IMPORT, ZoneDirectory, delta_shares, limit_shares, moving, notes, per_site
from mapping.oadr import model as m
from mapping.oadr.vocabulary import power_kw
from mapping.openadr3 import wire
from mapping.refusal import Refused

DIRECTIONS = (IMPORT, EXPORT)
MODES = ("LIMIT", "DELTA")


def translate(body: Any, settings: AdapterSettings, directory: ZoneDirectory) -> Translation:
    """One activation → one event per registered site of the zone, carrying the site's share."""
    body = wire.obj(body, "body")
    msg = message_id(body, "activation_id", "message_id")
    zone = wire.string(body.get("zone"), "zone", required=True)
    if zone not in directory.zones:
        raise Refused("zone", f"{zone!r} is not a configured zone or group")
    start, count = window(body, "start", "end")
    power = number(body.get("power_kw"), "power_kw", 0, 100_000)
    direction = body.get("direction")
    if direction not in DIRECTIONS:
        raise Refused("direction", f"expected {' or '.join(DIRECTIONS)}")
    mode = body.get("mode", "LIMIT")
    if mode not in MODES:
        raise Refused("mode", f"expected {' or '.join(MODES)}")
    sites, unregistered = directory.sites_of((str(zone),), "zone")
    if mode == "LIMIT":
        name, kind, shares = f"x-{direction}_CAPACITY_LIMIT", "setpoint", limit_shares(power, sites, direction)
    else:
        name, kind, shares = "LOAD_DISPATCH", "delta", delta_shares(-power if direction == IMPORT else power, sites)
    template = EventSpec(
        key=f"flex-{msg}",
        program_id=settings.program_id,
        start=start,
        signal_name=name,
        signal_type=kind,
        values=(),
        unit=power_kw(),
        target=m.Target(),
        comment=f"local flexibility {mode.lower()} {direction.lower()} {power:g} kW ({zone})",
    )
    values = {site: (kw,) * count for site, kw in shares.items()}
    asked = values if mode == "LIMIT" else moving(values)  # a limit binds every site, a change only those that move
    events = per_site(template, sites, asked)
    return Translation(message_id=msg, events=events, notes=notes(unregistered, tuple(s for s in values if s not in asked)))
