"""RTE Tempo day colours (the `tempo_like_calendars` answer of RTE's API) → ELECTRICITY_PRICE events.

Input: `{"tempo_like_calendars": {"values": [{"start_date": "2026-11-27T00:00:00+01:00",
"end_date": "2026-11-28T00:00:00+01:00", "value": "RED", "updated_date": "..."}]}}`. Each day becomes
one event of 15-minute intervals priced per the configured colour and period: peak from
`peak_start` to `peak_end` local time (`[dso] time_zone`), off-peak otherwise. Event id
`tempo-<day>`. Idempotent by `message_id`, else by the newest `updated_date`.
"""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from mapping.dso.common import AdapterSettings, EventSpec, Translation, aware, message_id, on_grid, zone_target
from mapping.grid import QUARTER
from mapping.oadr import model as m
from mapping.openadr3 import wire
from mapping.refusal import Refused

COLOURS = ("BLUE", "WHITE", "RED")


def _price(moment: datetime, colour: str, settings: AdapterSettings) -> float:
    local = moment.astimezone(ZoneInfo(settings.time_zone)).time()
    off_peak, peak = settings.prices[colour]
    return peak if settings.peak_start <= local < settings.peak_end else off_peak


def translate(body: Any, settings: AdapterSettings) -> Translation:
    """Tempo day colours → one price event per day."""
    body = wire.obj(body, "body")
    calendars = wire.obj(body.get("tempo_like_calendars"), "tempo_like_calendars")
    days = wire.array(calendars.get("values"), "tempo_like_calendars.values")
    if not days:
        raise Refused("tempo_like_calendars.values", "at least one day is needed")
    updated = [d.get("updated_date") for d in days if isinstance(d, dict) and isinstance(d.get("updated_date"), str)]
    msg = message_id(
        {"message_id": body.get("message_id"), "updated_date": max(updated) if updated else None}, "message_id", "updated_date"
    )
    events = []
    for i, raw in enumerate(days):
        where = f"tempo_like_calendars.values[{i}]"
        day = wire.obj(raw, where)
        start = on_grid(aware(day.get("start_date"), f"{where}.start_date"), f"{where}.start_date")
        end = on_grid(aware(day.get("end_date"), f"{where}.end_date"), f"{where}.end_date")
        if not 0 < (end - start).total_seconds() <= 25 * 3600:
            raise Refused(f"{where}.end_date", "a Tempo day lasts 23 to 25 hours")
        colour = day.get("value")
        if colour not in COLOURS:
            raise Refused(f"{where}.value", f"expected a Tempo colour: {', '.join(COLOURS)}")
        if colour not in settings.prices:
            raise Refused(f"{where}.value", f"no price configured for {colour} ([dso.signals.tempo.prices])")
        count = int((end - start) / QUARTER)
        values = tuple(_price(start + k * QUARTER, colour, settings) for k in range(count))
        label = (
            start.astimezone(ZoneInfo(settings.time_zone)).date().isoformat()
            if start.hour == 0
            else (start + (end - start) / 2).date().isoformat()
        )
        events.append(
            EventSpec(
                key=f"tempo-{label}",
                program_id=settings.program_id,
                start=start,
                signal_name="ELECTRICITY_PRICE",
                signal_type="price",
                values=values,
                unit=m.ItemUnit("currencyPerKWh", "currencyPerKWh", settings.currency, "none"),
                target=zone_target(settings.zones),
                comment=f"RTE Tempo {colour}",
            )
        )
    return Translation(message_id=msg, events=tuple(events))
