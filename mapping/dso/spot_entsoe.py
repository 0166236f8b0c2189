"""ENTSO-E transparency platform's day-ahead prices (`Publication_MarketDocument`, document type A44) → price
points. Pure.

The document (IEC 62325-451-3, namespace `urn:iec62325.351:tc57wg16:451-3:publicationdocument:7:x`) holds
TimeSeries, one per bidding zone and resolution: `in_Domain.mRID` / `out_Domain.mRID` (France:
10YFR-RTE------C), `currency_Unit.name` (EUR), `price_Measure_Unit.name` (MWH), `curveType`, and Periods of
`timeInterval` (`start`, `end`, UTC), `resolution` (PT60M, or PT15M since the 15-minute day-ahead products of
1 October 2025) and Points (`position` from 1, `price.amount`). Curve type A01 (sequential fixed size blocks)
gives every position; A03 (variable sized blocks) leaves out a position whose price equals the previous one,
which it repeats. A missing curveType is A01. Any other document type, zone, currency or unit is refused, naming
the element.
"""

import math
from datetime import UTC, datetime

from lxml import etree

from mapping.dso.spot import FRANCE_ZONE, RESOLUTIONS, PricePoint, SpotPrices, SpotRefused
from mapping.oadr.xsd import MessageRejected, parse_xml

ROOT = "Publication_MarketDocument"
NAMESPACE_PREFIX = "urn:iec62325.351:tc57wg16:451-3:publicationdocument:"
DAY_AHEAD_PRICES = "A44"
FIXED_BLOCKS, VARIABLE_BLOCKS = "A01", "A03"
#: a year of quarter-hour prices is about 3 MB
MAX_BYTES = 32 * 1024 * 1024
_RESOLUTIONS = {"PT15M": RESOLUTIONS[0], "PT60M": RESOLUTIONS[1], "PT1H": RESOLUTIONS[1]}


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _children(parent: etree._Element, name: str) -> list[etree._Element]:
    return [child for child in parent if isinstance(child.tag, str) and _local(child) == name]


def _text(parent: etree._Element, name: str, where: str, required: bool = True) -> str | None:
    found = _children(parent, name)
    if not found or not (found[0].text or "").strip():
        if required:
            raise SpotRefused(f"{where}/{name}", "is missing")
        return None
    return (found[0].text or "").strip()


def _required(parent: etree._Element, name: str, where: str) -> str:
    value = _text(parent, name, where)
    assert value is not None  # required: _text refused it otherwise
    return value


def _moment(text: str, where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise SpotRefused(where, f"{text!r} is not a UTC time such as 2025-10-25T22:00Z") from exc
    if moment.tzinfo is None:
        raise SpotRefused(where, f"{text!r} has no offset (ENTSO-E times are UTC, with Z)")
    return moment.astimezone(UTC)


def _expect(parent: etree._Element, name: str, where: str, allowed: tuple[str, ...], what: str) -> str:
    value = _required(parent, name, where)
    if value not in allowed:
        raise SpotRefused(f"{where}/{name}", f"{value!r}: {what} expected")
    return value


def _amounts(period: etree._Element, where: str, count: int, curve: str) -> list[float]:
    """The price of each of the period's `count` positions (A03: a left-out position repeats the previous)."""
    given: dict[int, float] = {}
    for point in _children(period, "Point"):
        text = _required(point, "position", f"{where}/Point")
        position = int(text) if text.isdigit() else 0
        if not 1 <= position <= count:
            raise SpotRefused(f"{where}/Point/position", f"{text!r}: a position from 1 to {count} expected")
        if position in given:
            raise SpotRefused(f"{where}/Point/position", f"position {position} is given twice")
        amount = _required(point, "price.amount", f"{where}/Point[position={position}]")
        try:
            value = float(amount)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise SpotRefused(f"{where}/Point[position={position}]/price.amount", f"{amount!r} is not a price")
        given[position] = value
    if 1 not in given:
        raise SpotRefused(f"{where}/Point", "position 1 is missing (every curve type gives it)")
    amounts: list[float] = []
    for position in range(1, count + 1):
        if position not in given and curve == FIXED_BLOCKS:
            raise SpotRefused(f"{where}/Point", f"position {position} is missing (curveType A01 gives every position)")
        amounts.append(given.get(position, amounts[-1] if amounts else math.nan))
    return amounts


def _period(period: etree._Element, where: str, curve: str) -> list[PricePoint]:
    interval = _children(period, "timeInterval")
    if not interval:
        raise SpotRefused(f"{where}/timeInterval", "is missing")
    start = _moment(_required(interval[0], "start", f"{where}/timeInterval"), f"{where}/timeInterval/start")
    end = _moment(_required(interval[0], "end", f"{where}/timeInterval"), f"{where}/timeInterval/end")
    step = _RESOLUTIONS.get(_required(period, "resolution", where))
    if step is None:
        raise SpotRefused(f"{where}/resolution", f"one of {', '.join(_RESOLUTIONS)} expected (the day-ahead products)")
    if end <= start or (end - start) % step:
        raise SpotRefused(f"{where}/timeInterval", f"{start:%Y-%m-%dT%H:%MZ}–{end:%Y-%m-%dT%H:%MZ} is not whole steps of {step}")
    amounts = _amounts(period, where, (end - start) // step, curve)
    return [PricePoint(start + k * step, start + (k + 1) * step, value) for k, value in enumerate(amounts)]


def _series(series: etree._Element, where: str) -> list[PricePoint]:
    for name in ("in_Domain.mRID", "out_Domain.mRID"):
        zone = _text(series, name, where, required=False)
        if zone is not None and zone != FRANCE_ZONE:
            raise SpotRefused(f"{where}/{name}", f"{zone!r} is not France's bidding zone {FRANCE_ZONE}")
    _expect(series, "currency_Unit.name", where, ("EUR",), "EUR (prices of France's zone are in euros)")
    _expect(series, "price_Measure_Unit.name", where, ("MWH",), "MWH (day-ahead prices are per MWh)")
    curve = _text(series, "curveType", where, required=False) or FIXED_BLOCKS
    if curve not in (FIXED_BLOCKS, VARIABLE_BLOCKS):
        raise SpotRefused(f"{where}/curveType", f"{curve!r}: A01 or A03 expected")
    periods = _children(series, "Period")
    if not periods:
        raise SpotRefused(f"{where}/Period", "is missing")
    points: list[PricePoint] = []
    for j, period in enumerate(periods, 1):
        points += _period(period, f"{where}/Period[{j}]", curve)
    return points


def parse_a44(body: bytes) -> SpotPrices:
    """An A44 document's prices for France (refused, naming the element, when it is anything else)."""
    if not body.strip():
        raise SpotRefused(ROOT, "the file is empty")
    try:
        root = parse_xml(body, MAX_BYTES)
    except MessageRejected as exc:
        raise SpotRefused(ROOT, f"not a readable XML document: {exc.reason}") from exc
    namespace = etree.QName(root).namespace or ""
    if _local(root) != ROOT or not namespace.startswith(NAMESPACE_PREFIX):
        raise SpotRefused(ROOT, f"the root element is {_local(root)} in {namespace or 'no namespace'}: {ROOT} expected")
    _expect(root, "type", ROOT, (DAY_AHEAD_PRICES,), "A44 (day-ahead prices)")
    document_id = _required(root, "mRID", ROOT)
    revision = _text(root, "revisionNumber", ROOT, required=False) or "1"
    series = _children(root, "TimeSeries")
    if not series:
        raise SpotRefused(f"{ROOT}/TimeSeries", "is missing: the document holds no prices")
    points: list[PricePoint] = []
    for i, one in enumerate(series, 1):
        points += _series(one, f"TimeSeries[{i}]")
    return SpotPrices(f"entsoe-{document_id}-{revision}", f"ENTSO-E A44 {document_id}", tuple(points))
