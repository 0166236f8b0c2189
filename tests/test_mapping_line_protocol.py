"""mapping/line_protocol.py: InfluxDB 1.x line protocol, escaped per part as InfluxDB parses it, times exact.
(tests/test_ven_influxdb.py writes such lines to a real influxd and reads them back.)"""

import math
from datetime import UTC, datetime, timedelta, timezone

import pytest

from mapping.line_protocol import Point, escape_key, escape_measurement, format_field_value, format_point, timestamp
from mapping.refusal import Refused

AT = datetime(2026, 12, 7, 18, 0, 0, 123456, tzinfo=UTC)


def test_a_reading_as_a_line_with_sorted_tags():
    point = Point(
        "cariflex_readings", {"site": "site-07", "asset": "meter", "quantity": "power", "unit": "kW"}, {"value": 2.4}, AT
    )
    assert format_point(point, "ms") == (
        "cariflex_readings,asset=meter,quantity=power,site=site-07,unit=kW value=2.4 " + str(1796666400123)
    )


def test_each_part_escapes_its_own_special_characters():
    assert escape_measurement("a b,c=d") == "a\\ b\\,c=d"  # an equals sign is literal in a measurement
    assert escape_key("a b,c=d") == "a\\ b\\,c\\=d"
    assert escape_key('say "x"') == 'say\\ "x"'  # quotes are literal outside string values
    assert format_field_value('say "hi" \\o/') == '"say \\"hi\\" \\\\o/"'
    point = Point("m,1 x", {"tag key=1": "v a,l=ue"}, {"field key": "s", "n=": 1}, AT)
    assert format_point(point, "s") == 'm\\,1\\ x,tag\\ key\\=1=v\\ a\\,l\\=ue field\\ key="s",n\\==1i 1796666400'


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (2.0, "2.0"),
        (-0.5, "-0.5"),
        (1e16, "1e+16"),
        (2.5e-07, "2.5e-07"),
        (3, "3i"),
        (-7, "-7i"),
        (True, "true"),
        (False, "false"),
        ("", '""'),
    ],
)
def test_field_values_keep_their_type(value, text):
    assert format_field_value(value) == text


@pytest.mark.parametrize(("precision", "expected"), [("s", 1796666400), ("ms", 1796666400123), ("u", 1796666400123456)])
def test_timestamps_are_exact_in_each_precision(precision, expected):
    assert timestamp(AT, precision) == expected
    assert timestamp(AT.astimezone(timezone(timedelta(hours=-4))), precision) == expected  # the offset does not matter
    assert timestamp(AT, "ns") == 1796666400123456000


def test_times_before_the_epoch_floor():
    assert timestamp(datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=UTC), "s") == -1


def test_an_empty_tag_value_is_left_out():
    assert format_point(Point("m", {"site": "a", "label": ""}, {"v": 1.0}, AT), "s") == "m,site=a v=1.0 1796666400"


@pytest.mark.parametrize(
    ("point", "field"),
    [
        (Point("m", {}, {}, AT), "fields"),
        (Point("", {}, {"v": 1.0}, AT), "measurement"),
        (Point("m\nx", {}, {"v": 1.0}, AT), "measurement"),
        (Point("m", {"site": "a\nb"}, {"v": 1.0}, AT), "tag site"),
        (Point("m", {"site": "ends\\"}, {"v": 1.0}, AT), "tag site"),
        (Point("m", {"": "a"}, {"v": 1.0}, AT), "tag key ''"),
        (Point("m", {}, {"v": math.nan}, AT), "field v"),
        (Point("m", {}, {"v": -math.inf}, AT), "field v"),
        (Point("m", {}, {"v": "two\nlines"}, AT), "field v"),
        (Point("m", {}, {"v": None}, AT), "field v"),  # type: ignore[dict-item]
        (Point("m", {}, {"v": 1.0}, datetime(2026, 12, 7, 18)), "timestamp"),
    ],
)
def test_what_line_protocol_cannot_carry_is_refused_naming_the_part(point, field):
    with pytest.raises(Refused) as refused:
        format_point(point, "ms")
    assert refused.value.field == field


def test_an_unknown_precision_is_refused():
    with pytest.raises(Refused, match="precision: 'h' is not one of s, ms, u, ns"):
        timestamp(AT, "h")
