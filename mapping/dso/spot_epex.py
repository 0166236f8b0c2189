"""EPEX SPOT's CSV export of day-ahead auction results (France) → price points. Pure.

The columns are those of EPEX's market-results table for an auction, with the delivery day beside them so one
file holds several days: `Delivery day` (2026-03-29 or 29/03/2026), `Hours` or `Period` (the market time unit in
Paris wall-clock time: `00 - 01` hourly, `00:00 - 00:15` quarter-hourly) and `Price (€/MWh)` (or `Price
(EUR/MWh)`); volume columns and any other are ignored. Comma-separated with `.` decimals, or semicolon-separated
with `,` decimals (a French spreadsheet's). Rows follow time: on the day the clocks go back the period from 02:00
appears twice, the first in summer time (CEST), the second in winter time (CET); on the day they go forward
02:00–03:00 does not exist and is refused if given.
"""

import csv
import hashlib
import math
import re
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from mapping.dso.spot import PARIS, RESOLUTIONS, PricePoint, SpotPrices, SpotRefused

DAY_COLUMN = "delivery day"
PERIOD_COLUMNS = ("hours", "period")
PRICE_COLUMN = re.compile(r"price\s*\((.*)\)")
PRICE_UNITS = ("€/mwh", "eur/mwh")
_PERIOD = re.compile(r"(\d{1,2})(?::(\d{2}))?\s*-\s*(\d{1,2})(?::(\d{2}))?")


def _columns(header: list[str]) -> tuple[int, int, int]:
    """(delivery day, period, price) column indexes, refused naming what is missing or priced in another unit."""
    names = [name.strip().lower() for name in header]
    if DAY_COLUMN not in names:
        raise SpotRefused("Delivery day", f"no such column (the header is {', '.join(header)})")
    period = next((names.index(name) for name in PERIOD_COLUMNS if name in names), None)
    if period is None:
        raise SpotRefused("Hours", f"no Hours or Period column (the header is {', '.join(header)})")
    for index, name in enumerate(names):
        found = PRICE_COLUMN.fullmatch(name)
        if found:
            if found[1].replace(" ", "") not in PRICE_UNITS:
                raise SpotRefused(header[index].strip(), "prices in €/MWh (EUR/MWh) expected")
            return names.index(DAY_COLUMN), period, index
    raise SpotRefused("Price (€/MWh)", f"no such column (the header is {', '.join(header)})")


def _day(text: str, where: str) -> date:
    try:
        if "/" in text:
            day, month, year = (int(part) for part in text.split("/"))
            return date(year, month, day)
        return date.fromisoformat(text)
    except ValueError as exc:
        raise SpotRefused(where, f"{text!r} is not a day such as 2026-03-29 or 29/03/2026") from exc


def _period(text: str, where: str) -> tuple[time, timedelta]:
    found = _PERIOD.fullmatch(text.strip())
    if found is None:
        raise SpotRefused(where, f"{text!r} is not a period such as 00 - 01 or 00:00 - 00:15")
    start_h, start_m, end_h, end_m = (int(part or 0) for part in found.groups())
    length = timedelta(hours=end_h, minutes=end_m) - timedelta(hours=start_h, minutes=start_m)
    if length <= timedelta(0):  # the day's last period may end at 00:00
        length += timedelta(days=1)
    if start_h > 23 or start_m > 59 or end_m > 59 or length not in RESOLUTIONS:
        raise SpotRefused(where, f"{text!r} is not an hour or a quarter hour of the day")
    return time(start_h, start_m), length


#: a value whose dots could group thousands as well as mark decimals
_THOUSANDS = re.compile(r"-?\d{1,3}(\.\d{3})+")


def _price(text: str, decimal_comma: bool, where: str) -> float:
    """A price as written: in a `;` file a comma is the decimal mark and a dot before it groups thousands
    ("1.234,50"); a dot alone is the decimal mark ("45.67", as spreadsheets export), unless the value reads both ways
    ("1.234": a thousand or one euro), which is refused rather than guessed."""
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "")
    if decimal_comma and "," in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    elif decimal_comma and _THOUSANDS.fullmatch(cleaned):
        raise SpotRefused(
            where, f"{text!r} reads as a thousand or as a decimal price: write 1234 or 1.234,00 for the one, 1,234 for the other"
        )
    try:
        value = float(cleaned)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise SpotRefused(where, f"{text!r} is not a price")
    return value


def _instant(day: date, clock: time, repeat: bool, where: str) -> datetime:
    """The UTC instant of a Paris wall-clock time (`repeat`: its second occurrence, the day the clocks go back)."""
    local = datetime.combine(day, clock, tzinfo=ZoneInfo(PARIS)).replace(fold=1 if repeat else 0)
    moment = local.astimezone(UTC)
    back = moment.astimezone(ZoneInfo(PARIS))
    if (back.date(), back.time()) != (day, clock):
        raise SpotRefused(where, f"{clock:%H:%M} does not exist on {day} in Paris (the clocks go forward)")
    if repeat and moment == local.replace(fold=0).astimezone(UTC):
        raise SpotRefused(where, f"{clock:%H:%M} on {day} is given twice")
    return moment


def parse_epex_csv(text: str, name: str = "EPEX CSV") -> SpotPrices:
    """The file's prices (refused, naming the column or the row, when it cannot be read)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise SpotRefused("file", "is empty: a header and one row per period expected")
    delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
    rows = list(csv.reader(lines, delimiter=delimiter))
    day_at, period_at, price_at = _columns(rows[0])
    points: list[PricePoint] = []
    seen: Counter[tuple[date, time]] = Counter()
    for number, row in enumerate(rows[1:], 2):
        where = f"row {number}"
        if len(row) <= max(day_at, period_at, price_at):
            raise SpotRefused(where, f"has {len(row)} columns, the header {len(rows[0])}")
        day = _day(row[day_at].strip(), f"{where}, Delivery day")
        clock, length = _period(row[period_at], f"{where}, {rows[0][period_at].strip()}")
        label = f"{where}, {rows[0][period_at].strip()}"
        if seen[day, clock] > 1:
            raise SpotRefused(label, f"{clock:%H:%M} on {day} is given a third time")
        start = _instant(day, clock, seen[day, clock] == 1, label)
        seen[day, clock] += 1
        points.append(
            PricePoint(start, start + length, _price(row[price_at], delimiter == ";", f"{where}, {rows[0][price_at].strip()}"))
        )
    if not points:
        raise SpotRefused("file", "has a header but no rows")
    # the same file twice is one message, whatever it is called
    return SpotPrices(f"epex-{hashlib.sha256(text.encode()).hexdigest()[:20]}", f"EPEX CSV {name}", tuple(points))
