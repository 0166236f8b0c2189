"""EDF SEI (Martinique's system operator) evening-peak alert → a SIMPLE event.

Input: `{"alert_id": "...", "date": "2026-11-26", "start": "18:00", "end": "21:00", "level": "ORANGE"}`
with local Martinique times (`[dso] time_zone`, UTC−4) on the 15-minute grid; an end before the start
is on the next day. Levels: VIGILANCE → SIMPLE 1, ORANGE → 2, RED → 3, at priority 1 (the top of the grid
band, as every operator signal). Event id `sei-peak-<date>` (a later alert for the same evening modifies it).
"""

from datetime import timedelta
from typing import Any

from mapping.dso.common import (
    AdapterSettings,
    EventSpec,
    Translation,
    at_local,
    local_day,
    local_time,
    message_id,
    zone_target,
)
from mapping.grid import QUARTER
from mapping.openadr3 import wire
from mapping.refusal import Refused

LEVELS = {"VIGILANCE": 1, "ORANGE": 2, "RED": 3}


def translate(body: Any, settings: AdapterSettings) -> Translation:
    """One alert → one SIMPLE event over the evening window."""
    body = wire.obj(body, "body")
    msg = message_id(body, "alert_id", "message_id")
    day = local_day(body.get("date"), "date")
    start = at_local(day, local_time(body.get("start"), "start"), settings.time_zone)
    end = at_local(day, local_time(body.get("end"), "end"), settings.time_zone)
    if end <= start:
        end += timedelta(days=1)
    level = body.get("level")
    if level not in LEVELS:
        raise Refused("level", f"expected {', '.join(LEVELS)}")
    count = int((end - start) / QUARTER)
    event = EventSpec(
        key=f"sei-peak-{day.isoformat()}",
        program_id=settings.program_id,
        start=start,
        signal_name="SIMPLE",
        signal_type="level",
        values=(float(LEVELS[level]),) * count,
        unit=None,
        target=zone_target(settings.zones),
        comment=f"EDF SEI evening peak {level} {day.isoformat()}",
    )
    return Translation(message_id=msg, events=(event,))
