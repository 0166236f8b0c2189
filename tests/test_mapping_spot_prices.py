"""EPEX SPOT day-ahead prices (France) → ELECTRICITY_PRICE events, pure: ENTSO-E's A44 document and EPEX's CSV
export (tests/data/spot-prices), hourly and quarter-hourly, days of 23 and 25 hours, A03's left-out positions,
EUR/MWh → EUR/kWh; hostile inputs refused naming the element; Martinique programs refused."""

from datetime import UTC, datetime, timedelta

import pytest

from mapping.dso.common import AdapterSettings
from mapping.dso.spot import PricePoint, SpotPrices, SpotRefused, check_mainland, translate
from mapping.dso.spot_entsoe import parse_a44
from mapping.dso.spot_epex import parse_epex_csv
from mapping.flex.units import price_per_kwh
from tests.support.reference_data import spot_price_file

SETTINGS = AdapterSettings(program_id="mainland-spot", zones=("poste-ivry",))
#: the hourly prices of 30 March 2025 in the A03 file, all 23 (the file leaves out positions 3, 5 and 6, and 14)
HOURLY_2025_03_30 = [62.5, 58.1, 58.1, 55.0, 55.0, 55.0, 61.2, 74.9, 88.3, 80.0, 41.7, 12.4, -3.5, -3.5, -1.2, 9.8]
HOURLY_2025_03_30 += [45.6, 89.9, 121.3, 135.0, 110.2, 95.4, 80.1]


def _xml(name: str) -> bytes:
    return spot_price_file(name).read_bytes()


def _csv(name: str) -> str:
    return spot_price_file(name).read_text(encoding="utf-8")


def test_an_hourly_a03_document_on_the_23_hour_day_repeats_left_out_positions():
    (event,) = translate(parse_a44(_xml("entsoe-a44-fr-2025-03-30-pt60m-a03.xml")), SETTINGS).events
    # 30 March 2025 00:00 Paris (CET) is 29 March 23:00 UTC; 23 hours → 92 quarter hours
    assert (event.key, event.start, len(event.values)) == ("spot-fr-2025-03-30", datetime(2025, 3, 29, 23, tzinfo=UTC), 92)
    assert list(event.values) == [round(price / 1000, 8) for price in HOURLY_2025_03_30 for _ in range(4)]
    assert event.values[8:12] == (0.0581,) * 4  # position 3, left out: position 2's price
    assert event.values[52:56] == (-0.0035,) * 4  # a negative price stays negative
    assert (event.signal_name, event.signal_type, event.unit.kind, event.unit.units) == (
        "ELECTRICITY_PRICE",
        "price",
        "currencyPerKWh",
        "EUR",
    )
    assert event.target.group_ids == ("poste-ivry",) and "PT60M" in event.comment


def test_a_quarter_hour_a01_document_on_the_25_hour_day():
    prices = parse_a44(_xml("entsoe-a44-fr-2025-10-26-pt15m-a01.xml"))
    (event,) = translate(prices, SETTINGS).events
    assert (event.key, event.start, len(event.values)) == ("spot-fr-2025-10-26", datetime(2025, 10, 25, 22, tzinfo=UTC), 100)
    assert event.values[0] == 0.04 and event.values[99] == round((40 + 99 * 0.5) / 1000, 8)
    assert prices.message_id.startswith("entsoe-0b9d8c7e6f5a4b3c2d1e0f9a8b7c6d5e-1") and "PT15M" in event.comment


def test_epex_csv_quarter_hours_on_the_23_hour_day_with_decimal_commas():
    (event,) = translate(parse_epex_csv(_csv("epex-fr-2026-03-29-quarter-hours.csv")), SETTINGS).events
    assert (event.key, event.start, len(event.values)) == ("spot-fr-2026-03-29", datetime(2026, 3, 28, 23, tzinfo=UTC), 92)
    assert event.values[:3] == (0.06, 0.06225, 0.0645)
    # 01:45–02:00 CET is followed by 03:00 CEST: one contiguous UTC quarter hour after the other
    assert event.values[7:9] == (0.07575, 0.078)


def test_epex_csv_hours_on_the_25_hour_day_take_the_repeated_hour_in_order():
    (event,) = translate(parse_epex_csv(_csv("epex-fr-2026-10-25-hours.csv")), SETTINGS).events
    assert (event.start, len(event.values)) == (datetime(2026, 10, 24, 22, tzinfo=UTC), 100)
    # 02 - 03 twice: first CEST (00:00 UTC), then CET (01:00 UTC)
    assert event.values[8:16] == (0.073,) * 4 + (0.0745,) * 4


def test_the_same_csv_twice_is_one_message_whatever_its_name():
    text = _csv("epex-fr-2026-10-25-hours.csv")
    assert parse_epex_csv(text, "a.csv").message_id == parse_epex_csv(text, "b.csv").message_id
    assert parse_epex_csv(text).message_id != parse_epex_csv(text.replace("70.00", "70.01")).message_id


def test_the_finer_price_wins_where_both_resolutions_are_given():
    start = datetime(2025, 10, 1, 22, tzinfo=UTC)
    hour = PricePoint(start, start + timedelta(hours=1), 100.0)
    quarter = timedelta(minutes=15)
    quarters = [PricePoint(start + k * quarter, start + (k + 1) * quarter, 90.0 + k) for k in range(4)]
    (event,) = translate(SpotPrices("m", "test", (hour, *quarters)), SETTINGS).events
    assert event.values == (0.09, 0.091, 0.092, 0.093) and "(PT15M," in event.comment


def test_the_event_price_reaches_flexmeasures_in_eur_per_kwh():
    # what the VEN gives FlexMeasures' price sensor (mapping.flex: consumption-price via dso-price)
    (event,) = translate(parse_a44(_xml("entsoe-a44-fr-2025-10-26-pt15m-a01.xml")), SETTINGS).events
    assert price_per_kwh(event.values[1], event.unit, "EUR") == pytest.approx(0.0405)


@pytest.mark.parametrize(
    "program_id, market_context, name",
    [
        ("sei-tariff", "http://cariflex.mq/programs/sei-tariff", "EDF SEI regulated tariffs"),
        ("prices", "http://example.com/p", "Martinique spot"),
        ("zni-prices", "http://example.com/zni", "Prices"),
    ],
)
def test_a_martinique_program_is_refused(program_id, market_context, name):
    with pytest.raises(SpotRefused, match="program: .*Martinique .* has no spot market"):
        check_mainland(program_id, market_context, name)


def test_a_mainland_program_is_taken():
    check_mainland("mainland-spot", "http://cariflex.fr/programs/mainland-spot", "EPEX SPOT day-ahead (mainland France)")


A44 = _xml("entsoe-a44-fr-2025-03-30-pt60m-a03.xml").decode()
DOC, TS, PERIOD = "Publication_MarketDocument", "TimeSeries[1]", "TimeSeries[1]/Period[1]"


@pytest.mark.parametrize(
    "body, field, reason",
    [
        (A44.replace("<type>A44</type>", "<type>A65</type>"), f"{DOC}/type", "A44"),
        (A44.replace("<currency_Unit.name>EUR", "<currency_Unit.name>GBP"), f"{TS}/currency_Unit.name", "'GBP'"),
        (A44.replace("<price_Measure_Unit.name>MWH", "<price_Measure_Unit.name>KWH"), f"{TS}/price_Measure_Unit.name", "MWH"),
        (A44.replace("10YFR-RTE------C</in", "10YBE----------2</in"), f"{TS}/in_Domain.mRID", "not France"),
        (A44.replace("<curveType>A03", "<curveType>A02"), f"{TS}/curveType", "A01 or A03"),
        (A44.replace("<curveType>A03", "<curveType>A01"), f"{PERIOD}/Point", "position 3 is missing"),
        (A44.replace("<resolution>PT60M", "<resolution>PT30M"), f"{PERIOD}/resolution", "PT15M"),
        (A44.replace("<price.amount>62.5<", "<price.amount>lots<"), f"{PERIOD}/Point[position=1]/price.amount", "'lots'"),
        (A44.replace("<position>23</position>", "<position>24</position>"), f"{PERIOD}/Point/position", "1 to 23"),
        (A44.replace("22:00Z</end>\n      </timeInterval>", "yesterday</end></timeInterval>"), f"{PERIOD}/timeInterval/end", ""),
        (A44.replace("<position>1</position>", "<position>2</position>", 1), f"{PERIOD}/Point/position", "twice"),
        (A44.replace("<TimeSeries>", "<Series>").replace("</TimeSeries>", "</Series>"), f"{DOC}/TimeSeries", ""),
        (A44.replace("publicationdocument:7:3", "acknowledgementdocument:7:0"), "Publication_MarketDocument", "root element"),
        (A44[:400], "Publication_MarketDocument", "not a readable XML document"),
        ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', "Publication_MarketDocument", "DOCTYPE"),
        ("", "Publication_MarketDocument", "empty"),
    ],
)
def test_a_hostile_document_is_refused_naming_the_element(body, field, reason):
    with pytest.raises(SpotRefused) as refused:
        parse_a44(body.encode())
    assert refused.value.field == field and reason in refused.value.reason


CSV = _csv("epex-fr-2026-10-25-hours.csv")


@pytest.mark.parametrize(
    "text, field, reason",
    [
        (CSV.replace("Price (€/MWh)", "Price (£/MWh)"), "Price (£/MWh)", "€/MWh"),
        (CSV.replace("Price (€/MWh)", "Price (€/kWh)"), "Price (€/kWh)", "€/MWh"),
        (CSV.replace("Delivery day", "Day"), "Delivery day", "no such column"),
        (CSV.replace(",Hours,", ",When,"), "Hours", "no Hours or Period"),
        (CSV.replace("70.00", "n/a"), "row 2, Price (€/MWh)", "'n/a' is not a price"),
        (CSV.replace("2026-10-25,00 - 01", "2026-13-25,00 - 01"), "row 2, Delivery day", "not a day"),
        (CSV.replace("00 - 01", "00 - 02"), "row 2, Hours", "not an hour or a quarter hour"),
        (CSV.replace("2026-10-25,03 - 04", "2026-10-25,02 - 03"), "row 6, Hours", "given a third time"),
        (CSV.replace("2026-10-25,04 - 05", "2026-10-25,03 - 04"), "row 7, Hours", "03:00 on 2026-10-25 is given twice"),
        (CSV.replace("2026-10-25,05 - 06,20060,79.00\n", ""), "prices", "no price from 2026-10-25T04:00:00Z"),
        ("", "file", "empty"),
    ],
)
def test_a_hostile_csv_is_refused_naming_the_column_or_row(text, field, reason):
    with pytest.raises(SpotRefused) as refused:
        translate(parse_epex_csv(text), SETTINGS)
    assert refused.value.field == field and reason in refused.value.reason


def test_a_time_the_clocks_skip_is_refused():
    text = _csv("epex-fr-2026-03-29-quarter-hours.csv").replace("01:45 - 02:00", "02:00 - 02:15")
    with pytest.raises(SpotRefused, match="row 9, Period: 02:00 does not exist on 2026-03-29 in Paris"):
        parse_epex_csv(text)


@pytest.mark.parametrize(
    "written, eur_per_mwh",
    [("45,67", 45.67), ("1.234,50", 1234.5), ("-3,5", -3.5), ("45.67", 45.67), ("1234", 1234.0), ("-0.5", -0.5)],
)
def test_a_semicolon_file_reads_decimal_commas_and_decimal_dots_alike(written, eur_per_mwh):
    """A `;` export from a spreadsheet may keep dots as decimal marks: 45.67 is 45.67 €/MWh, never 4567."""
    prices = parse_epex_csv(f"Delivery day;Hours;Price (€/MWh)\n2026-03-30;00 - 01;{written}\n")
    assert [p.eur_per_mwh for p in prices.points] == [eur_per_mwh]


def test_a_semicolon_price_that_reads_two_ways_is_refused():
    with pytest.raises(SpotRefused, match="'1.234' reads as a thousand or as a decimal price"):
        parse_epex_csv("Delivery day;Hours;Price (€/MWh)\n2026-03-30;00 - 01;1.234\n")
