"""RTE Tempo day colours (the `tempo_like_calendars` answer of RTE's API) → ELECTRICITY_PRICE events.
A mainland France tariff: its days and hours are Paris time, whatever the VTN's `[dso] time_zone`.

Input: `{"tempo_like_calendars": {"values": [{"start_date": "2026-11-27T00:00:00+01:00",
"end_date": "2026-11-28T00:00:00+01:00", "value": "RED", "updated_date": "..."}]}}`. RTE names a
calendar day D (the Paris date of the middle of [start_date, end_date)); its colour applies to the
Tempo day, **D 06:00 → D+1 06:00 Europe/Paris** (23 or 25 hours when the clocks change that night).
The event, id `tempo-<D>`, has one 15-minute interval per quarter hour of it, priced per the configured
colour and period: peak (HP) from `peak_start` to `peak_end` Paris time (06:00–22:00), off-peak (HC)
otherwise. Idempotent by `message_id`, else by the newest `updated_date`.
"""

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from mapping.dso.common import AdapterSettings, EventSpec, Translation, at_local, aware, message_id, on_grid, zone_target
from mapping.grid import QUARTER
from mapping.oadr import model as m
from mapping.openadr3 import wire
from mapping.refusal import Refused

COLOURS = ("BLUE", "WHITE", "RED")
#: RTE's clock: Tempo days and their peak hours are Paris time (daylight saving included)
PARIS = "Europe/Paris"
#: a Tempo day begins (and the previous one ends) at 06:00 Paris time
DAY_START = time(6, 0)


def tempo_day(start: datetime, end: datetime) -> date:
    """The day D RTE's [start_date, end_date) names: the Paris date of its middle."""
    return (start + (end - start) / 2).astimezone(ZoneInfo(PARIS)).date()


def day_window(day: date) -> tuple[datetime, int]:
    """(start in UTC, number of quarter hours) of the Tempo day of `day`: D 06:00 → D+1 06:00 Paris."""
    start = at_local(day, DAY_START, PARIS)
    return start, int((at_local(day + timedelta(days=1), DAY_START, PARIS) - start) / QUARTER)


def _price(moment: datetime, colour: str, settings: AdapterSettings) -> float:
    paris = moment.astimezone(ZoneInfo(PARIS)).time()
    off_peak, peak = settings.prices[colour]
    return peak if settings.peak_start <= paris < settings.peak_end else off_peak


def translate(body: Any, settings: AdapterSettings) -> Translation:
    """Tempo day colours → one price event per Tempo day."""
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
        label = tempo_day(start, end)
        first, count = day_window(label)
        events.append(
            EventSpec(
                key=f"tempo-{label.isoformat()}",
                program_id=settings.program_id,
                start=first,
                signal_name="ELECTRICITY_PRICE",
                signal_type="price",
                values=tuple(_price(first + k * QUARTER, colour, settings) for k in range(count)),
                unit=m.ItemUnit("currencyPerKWh", "currencyPerKWh", settings.currency, "none"),
                target=zone_target(settings.zones),
                comment=f"RTE Tempo {colour} {label.isoformat()} (06:00–06:00 Paris)",
            )
        )
    return Translation(message_id=msg, events=tuple(events))
