"""RTE EcoWatt (API v5 `signals`): hourly levels of mainland France's electricity system → SIMPLE events.
A mainland signal (RTE runs the mainland grid, not Martinique's): feed it to a mainland program only.

Input: `{"signals": [{"GenerationFichier": "...", "jour": "2026-11-27T00:00:00+01:00", "dvalue": 2,
"values": [{"pas": 0, "hvalue": 1}, … {"pas": 23, "hvalue": 3}]}]}`; `pas` is the hour of `jour` (the
offset of `jour` places it in time). Levels: hvalue 0 and 1 (green) → SIMPLE 0, 2 (orange) → 1,
3 (red) → 2. Each hour becomes four 15-minute intervals. One event per day that is not all green,
id `ecowatt-<day>` (a newer forecast for the day modifies it). Idempotent by GenerationFichier
(or `message_id` when the sender gives one).
"""

from datetime import timedelta
from typing import Any

from mapping.dso.common import AdapterSettings, EventSpec, Translation, aware, message_id, zone_target
from mapping.openadr3 import wire
from mapping.refusal import Refused

LEVELS = {0: 0, 1: 0, 2: 1, 3: 2}


def translate(body: Any, settings: AdapterSettings) -> Translation:
    """EcoWatt signals → one SIMPLE event per day with an orange or red hour."""
    body = wire.obj(body, "body")
    signals = wire.array(body.get("signals"), "signals")
    if not signals:
        raise Refused("signals", "at least one day is needed")
    first = wire.obj(signals[0], "signals[0]")
    msg = message_id({**first, **body}, "message_id", "GenerationFichier")
    events, notes = [], []
    for d, raw in enumerate(signals):
        day = wire.obj(raw, f"signals[{d}]")
        start = aware(day.get("jour"), f"signals[{d}].jour")
        hours: dict[int, int] = {}
        for h, raw_value in enumerate(wire.array(day.get("values"), f"signals[{d}].values")):
            where = f"signals[{d}].values[{h}]"
            value = wire.obj(raw_value, where)
            pas = wire.integer(value.get("pas"), f"{where}.pas", minimum=0)
            level = wire.integer(value.get("hvalue"), f"{where}.hvalue", minimum=0)
            if pas is None or pas > 24:
                raise Refused(f"{where}.pas", "expected the hour of the day, 0 to 24")
            if level is None or level not in LEVELS:
                raise Refused(f"{where}.hvalue", "expected an EcoWatt level 0, 1, 2 or 3")
            if pas in hours:
                raise Refused(f"{where}.pas", f"hour {pas} appears twice")
            hours[pas] = LEVELS[level]
        if sorted(hours) != list(range(len(hours))) or len(hours) not in (23, 24, 25):
            raise Refused(f"signals[{d}].values", "expected every hour of the day (pas 0, 1, … 23)")
        label = (start + timedelta(hours=12)).date().isoformat()  # the day `jour` names, whatever its offset
        if not any(hours.values()):
            notes.append(f"{label}: all hours green, no event")
            continue
        values = tuple(hours[h] for h in sorted(hours) for _ in range(4))
        events.append(
            EventSpec(
                key=f"ecowatt-{label}",
                program_id=settings.program_id,
                start=start,
                signal_name="SIMPLE",
                signal_type="level",
                values=values,
                unit=None,
                target=zone_target(settings.zones),
                comment=f"RTE EcoWatt {label}",
            )
        )
    return Translation(message_id=msg, events=tuple(events), notes=tuple(notes))
