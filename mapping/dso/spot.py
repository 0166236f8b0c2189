"""EPEX SPOT day-ahead prices of France's bidding zone → ELECTRICITY_PRICE events. Pure. Mainland programs only.

The prices come from a publication (`mapping.dso.spot_entsoe`: ENTSO-E's A44 document; `mapping.dso.spot_epex`:
EPEX's CSV export) as points of EUR/MWh, each over its market time unit: an hour until the day-ahead market's
switch to 15-minute products (delivery from 1 October 2025), a quarter hour since. Each Paris delivery day becomes
one event, id `spot-fr-<day>`, one 15-minute interval per quarter hour (an hourly price repeated four times), in
EUR/kWh (the price ÷ 1000: the unit of the VTN's price events); a day of 23 or 25 hours has 92 or 100 intervals.
Where a publication gives a quarter hour twice at different resolutions the finer price is kept.

Martinique is a non-interconnected zone (ZNI): it has no spot market, its prices are EDF SEI's regulated
tariffs. `check_mainland` refuses a Martinique program, so a mainland price never reaches a Martinique site.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from mapping.dso.common import AdapterSettings, EventSpec, Translation, zone_target
from mapping.grid import QUARTER, is_on_grid
from mapping.oadr import model as m
from mapping.openadr3 import wire
from mapping.refusal import Refused

#: ENTSO-E's EIC code of France's bidding zone (RTE)
FRANCE_ZONE = "10YFR-RTE------C"
#: the market's clock: delivery days are Paris days
PARIS = "Europe/Paris"
#: the publications' unit, and how many kWh it holds
MWH_IN_KWH = 1000.0
#: the day-ahead products the market has traded: hours, and quarter hours since 1 October 2025
RESOLUTIONS = (timedelta(minutes=15), timedelta(minutes=60))


class SpotRefused(Refused):
    """A price publication that cannot be taken: the element, column or row, and why."""


@dataclass(frozen=True)
class PricePoint:
    """One market time unit's price: [start, end) in UTC, EUR/MWh."""

    start: datetime
    end: datetime
    eur_per_mwh: float


@dataclass(frozen=True)
class SpotPrices:
    """A publication's prices, and what identifies it (its id, to import it once)."""

    message_id: str
    source: str
    points: tuple[PricePoint, ...]


_MARTINIQUE = re.compile(r"martinique|\bsei\b|\bzni\b", re.IGNORECASE)


def check_mainland(program_id: str, market_context: str, name: str) -> None:
    """Refuse a Martinique program: one under a `.mq` host, or whose id, market context or name says Martinique,
    EDF SEI or ZNI (Martinique has no spot market)."""
    host = urlsplit(market_context).hostname or ""
    if host == "mq" or host.endswith(".mq") or any(_MARTINIQUE.search(text) for text in (program_id, market_context, name)):
        raise SpotRefused(
            "program",
            f"{program_id} is a Martinique program: Martinique (a non-interconnected zone) has no spot market, its "
            "prices are EDF SEI's tariffs; import day-ahead prices into a mainland program",
        )


def _quarters(points: Iterable[PricePoint]) -> dict[datetime, tuple[timedelta, float]]:
    """quarter-hour start → (resolution it came from, EUR/MWh); the finer resolution wins, equal ones must agree."""
    found: dict[datetime, tuple[timedelta, float]] = {}
    for point in sorted(points, key=lambda p: (p.end - p.start, p.start)):
        length = point.end - point.start
        if length not in RESOLUTIONS or not is_on_grid(point.start):
            raise SpotRefused("resolution", f"{wire.out_time(point.start)}: a price over {length} is no day-ahead product")
        for k in range(length // QUARTER):
            slot = point.start + k * QUARTER
            known = found.get(slot)
            if known is None:
                found[slot] = (length, point.eur_per_mwh)
            elif known[0] == length and known[1] != point.eur_per_mwh:
                raise SpotRefused("price", f"{wire.out_time(slot)} is priced twice: {known[1]} and {point.eur_per_mwh} EUR/MWh")
    return found


def _paris_day(moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(PARIS)).date()


def _label(resolutions: set[timedelta]) -> str:
    return "+".join(f"PT{int(r.total_seconds() // 60)}M" for r in sorted(resolutions))


def translate(prices: SpotPrices, settings: AdapterSettings) -> Translation:
    """One price event per Paris delivery day of `prices` (contiguous quarter hours; a gap is refused)."""
    if not prices.points:
        raise SpotRefused("prices", "the publication holds no price")
    quarters = _quarters(prices.points)
    days: dict[date, list[datetime]] = {}
    for slot in sorted(quarters):
        days.setdefault(_paris_day(slot), []).append(slot)
    unit = m.ItemUnit("currencyPerKWh", "currencyPerKWh", "EUR", "none")
    events = []
    for day, slots in days.items():
        for before, after in zip(slots, slots[1:], strict=False):
            if after - before != QUARTER:
                raise SpotRefused("prices", f"no price from {wire.out_time(before + QUARTER)} to {wire.out_time(after)}")
        resolutions = {quarters[slot][0] for slot in slots}
        events.append(
            EventSpec(
                key=f"spot-fr-{day.isoformat()}",
                program_id=settings.program_id,
                start=slots[0],
                signal_name="ELECTRICITY_PRICE",
                signal_type="price",
                values=tuple(round(quarters[slot][1] / MWH_IN_KWH, 8) for slot in slots),
                unit=unit,
                target=zone_target(settings.zones),
                comment=f"EPEX SPOT day-ahead France {day.isoformat()} ({_label(resolutions)}, {prices.source}), EUR/kWh",
            )
        )
    return Translation(message_id=prices.message_id, events=tuple(events))
