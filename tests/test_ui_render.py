"""Pure parts of the operator UI: the curtailment chart, the event timeline, the site map, CSV lines,
local times, rounding and units."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from mapping.oadr import model as m
from vtn.curtailment.query import CurtailmentInterval, EventCurtailment, SiteCurtailment
from vtn.store.event_log import EventRow, VenDelivery
from vtn.ui.chart import interval_rows, render_chart
from vtn.ui.pages_events import csv_line
from vtn.ui.sitemap import MapPoint, Site, load_sites, project, render_map
from vtn.ui.timeline import build_timeline

T0 = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)
Q = timedelta(minutes=15)
MARTINIQUE = ZoneInfo("America/Martinique")


def interval(n: int, requested, baseline, measured, achieved, quality="good") -> CurtailmentInterval:
    return CurtailmentInterval(T0 + n * Q, T0 + (n + 1) * Q, requested, baseline, measured, achieved, quality)


CURTAILMENT = EventCurtailment(
    event_id="evt-1",
    total=(interval(0, 6.0, 9.0, 5.5, 3.5), interval(1, 6.0, 9.2, None, None, "missing"), interval(2, 6.0, 8.0, 6.5, 1.5)),
    sites=(SiteCurtailment("ven-1", "site-01", (interval(0, 6.0, 9.0, 5.5, 3.5),), 1.17),),
    ratio=0.83,
)


def test_chart_draws_each_series_and_a_bar_per_reported_interval():
    svg = render_chart(CURTAILMENT.total, "All sites", MARTINIQUE)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert len(re.findall(r'<rect class="achieved"', svg)) == 2  # the missing interval has no bar
    # the missing measurement breaks the measured line into two runs; requested and baseline are whole
    assert len(re.findall(r'<polyline class="measured_kw"', svg)) == 2
    assert len(re.findall(r'<polyline class="requested_kw"', svg)) == 1
    assert "achieved 3.50 kW" in svg and "achieved 1.50 kW" in svg


def test_chart_puts_a_higher_value_higher_on_the_page():
    svg = render_chart((interval(0, 2.0, 8.0, None, None),), "one", MARTINIQUE)
    requested_y = float(re.search(r'class="requested_kw"[^>]*points="[\d.]+,([\d.]+)', svg).group(1))
    baseline_y = float(re.search(r'class="baseline_kw"[^>]*points="[\d.]+,([\d.]+)', svg).group(1))
    assert baseline_y < requested_y  # SVG y grows downwards


def test_chart_handles_negative_achieved_curtailment():
    svg = render_chart((interval(0, 6.0, 5.0, 7.0, -2.0),), "overshoot", MARTINIQUE)
    assert 'class="achieved"' in svg and "achieved -2.00 kW" in svg


def test_empty_curtailment_draws_nothing():
    assert render_chart((), "nothing", MARTINIQUE) == ""
    assert interval_rows(()) == []


def test_interval_rows_carry_the_numbers_of_the_chart():
    rows = interval_rows(CURTAILMENT.total)
    assert [r["achieved"] for r in rows] == ["3.50", "—", "1.50"]
    assert rows[1]["measured"] == "—" and rows[1]["quality"] == "missing"
    assert rows[0]["start"] == T0 and rows[0]["end"] == T0 + Q  # the page shows them in its zone


def test_timeline_orders_what_happened_and_marks_the_cancellation():
    history = [(0, "created", T0 - timedelta(hours=2), "far"), (1, "operator said so", T0 - timedelta(minutes=5), "cancelled")]
    deliveries = [VenDelivery("ven-1", "site-01", T0 - timedelta(hours=1), 1, 0, "optIn", 200, T0 - timedelta(minutes=50))]
    moments = build_timeline(T0, timedelta(hours=1), history, deliveries, [], True, T0 + timedelta(hours=3), UTC)
    assert [m.kind for m in moments] == ["created", "delivered", "optIn", "cancelled"]  # a cancelled event never goes active


def test_timeline_shows_active_and_completed_once_their_time_has_come():
    history = [(0, "created", T0 - timedelta(hours=2), "far")]
    during = build_timeline(T0, timedelta(hours=1), history, [], [], False, T0 + timedelta(minutes=10), UTC)
    after = build_timeline(T0, timedelta(hours=1), history, [], [], False, T0 + timedelta(hours=2), UTC)
    assert [m.kind for m in during] == ["created", "active"]
    assert [m.kind for m in after] == ["created", "active", "completed"]


def test_map_places_sites_inside_the_view_and_says_who_is_online():
    sites = load_sites(Path(__file__).resolve().parents[1] / "config" / "sites.toml")
    assert len(sites) == 40
    points = [MapPoint(s, f"ven-{i}" if i < 3 else None, i < 2) for i, s in enumerate(sites)]
    svg = render_map(points, "https://tiles.example/{z}/{x}/{y}.png")
    assert svg.count('class="site online"') == 2 and svg.count('class="site offline"') == 1
    assert svg.count('class="site unknown"') == 37
    width, height = map(float, re.search(r'viewBox="0 0 (\d+) (\d+)"', svg).groups())
    for cx, cy in re.findall(r'cx="([-\d.]+)" cy="([-\d.]+)"', svg):
        assert 0 < float(cx) < width and 0 < float(cy) < height
    assert "https://tiles.example/11/" in svg and "OpenStreetMap" in svg


def test_map_without_tiles_still_draws_coast_and_sites():
    svg = render_map([MapPoint(Site("site-01", "PV", 14.6161, -61.0588, "site-01"), "ven-1", True)], None)
    assert "<image" not in svg and 'id="coast"' in svg and 'class="site online"' in svg


def test_projection_puts_north_up_and_east_right():
    (x_west, y_north), (x_east, y_south) = project(14.9, -61.2), project(14.4, -60.8)
    assert x_east > x_west and y_south > y_north


def test_missing_sites_file_gives_no_sites(tmp_path):
    assert load_sites(tmp_path / "absent.toml") == []


def test_csv_line_of_an_event():
    signal = m.Signal("SIMPLE", "level", "0", (m.Interval(Q, 1.0, 0), m.Interval(Q, 2.0, 1)))
    event = m.Event("evt-1", 2, "http://p", T0, "cancelled", T0, 2 * Q, (signal,), m.Target(group_ids=("north",)), priority=1)
    row = EventRow(event, "cli", True, T0 - Q, T0, delivered=3, opted_in=2, opted_out=1)
    line = csv_line(row, {"http://p": "Program P"})
    assert line["program"] == "Program P" and line["end"] == "2026-11-26T22:30:00Z" and line["duration"] == "PT30M"
    assert line["signals"] == "SIMPLE/level 1, 2" and line["targets"] == "group: north"
    assert (line["delivered_vens"], line["opted_in"], line["opted_out"], line["cancelled"]) == (3, 2, 1, "true")


def test_ui_config_errors_name_the_key(tmp_path):
    import pytest

    from mapping.settings import ConfigError
    from vtn.config import parse_config

    with pytest.raises(ConfigError, match=r"ui\.offline_after"):
        parse_config({"ui": {"offline_after": "soon"}}, tmp_path, {})
    with pytest.raises(ConfigError, match="tile_url"):
        parse_config({"ui": {"tile_url": "x"}}, tmp_path, {})
    config = parse_config({"ui": {"tiles": False, "sites_file": "mine.toml"}}, tmp_path, {})
    assert config.ui.tiles_url is None and config.ui.sites_file == tmp_path / "mine.toml"


def test_timeline_summarises_a_large_fleet():
    history = [(0, "created", T0 - timedelta(hours=2), "far")]
    deliveries = [
        VenDelivery(
            f"ven-{k}",
            None,
            T0 - timedelta(hours=1, seconds=-k),
            0,
            0,
            "optOut" if k % 4 == 0 else "optIn",
            200,
            T0 - timedelta(minutes=30),
        )
        for k in range(100)
    ]
    moments = build_timeline(T0, timedelta(hours=1), history, deliveries, [], False, T0 - timedelta(hours=1), MARTINIQUE)
    assert moments[1].text.endswith("(the last at 17:01:39 AST)")  # the latest delivery, 21:01:39Z, in local time
    assert [(m.kind, m.text.split(" (")[0]) for m in moments] == [
        ("created", "created"),
        ("delivered", "first delivered to 100 VENs"),
        ("optIn", "75 VENs: optIn"),
        ("optOut", "25 VENs: optOut"),
    ]


# --- local time, rounding and units, the chart's axes, the site facts, the verdicts ----------------


def test_a_time_shows_in_local_time_with_utc_on_hover():
    from vtn.ui.formatting import time_tag, zone_abbreviation

    assert time_tag(T0, MARTINIQUE) == (
        '<time datetime="2026-11-26T22:00:00Z" title="2026-11-26 22:00:00 UTC">2026-11-26 18:00:00 AST</time>'
    )
    assert time_tag("2026-11-26T22:00:00Z", MARTINIQUE, "%H:%M").endswith(">18:00 AST</time>")  # the stores' ISO text
    assert time_tag(None, MARTINIQUE) == "—"
    assert zone_abbreviation(T0, ZoneInfo("America/Sao_Paulo")) == "UTC−3"  # a zone without an abbreviation


def test_an_event_window_reads_in_local_time():
    from vtn.ui.formatting import window, window_tag

    signal = m.Signal("SIMPLE", "level", "0", (m.Interval(Q, 1.0, 0),))

    def event(start: datetime, duration: timedelta) -> m.Event:
        return m.Event("evt-1", 0, "http://p", start, "far", start, duration, (signal,), m.Target())

    assert window(event(T0, timedelta(hours=1)), MARTINIQUE) == "2026-11-26 18:00 → 19:00 AST (PT1H)"
    assert window(event(T0, timedelta(hours=1)), UTC) == "2026-11-26 22:00 → 23:00 UTC (PT1H)"
    late = event(T0 + timedelta(hours=5), timedelta(hours=2))  # 23:00 local: the window ends the next day
    assert window(late, MARTINIQUE) == "2026-11-26 23:00 → 2026-11-27 01:00 AST (PT2H)"
    assert window(event(T0, timedelta(0)), MARTINIQUE) == "2026-11-26 18:00 AST → open-ended (PT0S)"
    assert 'title="2026-11-26 22:00 → 23:00 UTC (PT1H)"' in window_tag(event(T0, timedelta(hours=1)), MARTINIQUE)


def test_filters_read_times_in_the_ui_zone_unless_they_say_otherwise():
    import pytest

    from vtn.ui.formatting import parse_local

    assert parse_local("2026-11-26", MARTINIQUE) == datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
    assert parse_local("2026-11-26", MARTINIQUE, next_day=True) == datetime(2026, 11, 27, 4, 0, tzinfo=UTC)
    assert parse_local("2026-11-26 18:00", MARTINIQUE) == T0
    assert parse_local("2026-11-26T22:00:00Z", MARTINIQUE) == T0
    assert parse_local("2026-11-26T20:00:00-02:00", MARTINIQUE) == T0
    with pytest.raises(ValueError):
        parse_local("noon", MARTINIQUE)


def test_values_are_rounded_and_carry_their_unit():
    from vtn.ui.formatting import kw, percent, reading
    from vtn.ui.pages_misc import point_rows

    assert kw(9.634816666666667) == "9.63" and kw(None) == "—"
    assert reading(9.634816666666667) == "9.63" and reading(0.00123) == "0.00123" and reading(0.0) == "0.00"
    assert percent(1.1538) == "115 %" and percent(None) == "—"
    points = [
        {"ven_id": "ven-1", "report_name": "TELEMETRY_USAGE", "r_id": "power", "value": 9.634816666666667},
        {"ven_id": "ven-2", "report_name": "x-ACHIEVED_CURTAILMENT", "r_id": "baseline", "value": 1.0},
        {"ven_id": "ven-3", "report_name": "TELEMETRY_STATUS", "r_id": "status", "value": None},
    ]
    rows = point_rows(points, {"ven-1": "site-07"}, {("ven-1", "TELEMETRY_USAGE", "power"): "kW"})
    assert [(r["site"], r["unit"]) for r in rows] == [("site-07", "kW"), ("ven-2", "kW"), ("ven-3", "")]


def test_the_value_axis_ends_just_above_the_data():
    from vtn.ui.chart import value_axis

    assert value_axis(0.0, 512.0) == (0.0, 600.0, 200.0)  # ~500 kW: a 0–600 axis, not 0–1,000
    assert value_axis(0.0, 500.0) == (0.0, 500.0, 100.0)
    assert value_axis(0.0, 9.25) == (0.0, 10.0, 2.0)
    assert value_axis(-2.0, 7.0) == (-2.0, 8.0, 2.0)
    assert value_axis(0.0, 0.0) == (0.0, 1.0, 1.0)
    for high in (0.07, 3.3, 47.0, 480.0, 512.0, 999.0, 1234.0):
        bottom, top, step = value_axis(0.0, high)
        assert high <= top < high * 1.5 + step and (top - bottom) / step <= 6, high


def _labels(svg: str, kind: str) -> list[str]:
    return re.findall(rf'class="{kind}"[^>]*>([^<]+)', svg)


def test_a_one_interval_chart_has_its_start_and_end_on_the_time_axis():
    svg = render_chart((interval(0, 480.0, 512.0, 30.0, 482.0),), "one", MARTINIQUE)
    assert _labels(svg, "x-tick") == ["18:00", "18:15"]  # 22:00Z and 22:15Z in Martinique
    assert "<title>22:00 UTC</title>" in svg and "times AST (UTC−4)" in svg
    assert _labels(svg, "y-tick")[-1] == "600"
    assert "18:00 AST (22:00 UTC) achieved 482.00 kW" in svg


def test_many_intervals_keep_about_eight_time_labels_and_the_end():
    svg = render_chart(tuple(interval(n, 1.0, 2.0, 1.0, 1.0) for n in range(24)), "six hours", MARTINIQUE)
    labels = _labels(svg, "x-tick")
    assert labels[0] == "18:00" and labels[-1] == "00:00" and len(labels) <= 10


def test_ui_timezone_is_checked_at_start_up(tmp_path):
    import pytest

    from mapping.settings import ConfigError
    from vtn.config import parse_config

    assert parse_config({}, tmp_path, {}).ui.timezone == MARTINIQUE
    assert parse_config({"ui": {"timezone": "UTC"}}, tmp_path, {}).ui.timezone == ZoneInfo("UTC")
    for bad in ("Mars/Olympus", "../etc/passwd"):
        with pytest.raises(ConfigError, match=r"ui\.timezone: unknown time zone"):
            parse_config({"ui": {"timezone": bad}}, tmp_path, {})


def test_the_sites_file_gives_commune_asset_and_subscribed_power():
    from vtn.ui.sitemap import describe_asset

    sites = {s.ven_name: s for s in load_sites(Path(__file__).resolve().parents[1] / "config" / "sites.toml")}
    assert (sites["site-01"].commune, sites["site-01"].asset, sites["site-01"].contracted_kva) == (
        "Fort-de-France",
        "PV 5 kWp",
        9.0,
    )
    assert sites["site-11"].asset == "battery 100 kWh, 50 kW" and sites["site-11"].contracted_kva == 36.0
    assert describe_asset({"kind": "v2g", "capacity_kwh": 75, "power_kw": 11.0}) == "V2G charger 75 kWh, 11 kW"
    assert describe_asset({}) == ""


def test_rows_go_by_site_name_then_venid():
    from vtn.ui.formatting import site_order

    rows = [("ven-z", "site-01"), ("ven-a", "site-10"), ("site-05", None), ("ven-b", "site-02")]
    assert [v for v, name in sorted(rows, key=lambda r: site_order(r[1], r[0]))] == ["ven-z", "ven-b", "site-05", "ven-a"]


def test_curtailment_blocks_show_each_site_verdict_in_site_order():
    from mapping.curtailment.performance import Delivery, Verdict
    from vtn.ui.curtailment_view import curtailment_blocks

    met, under = Verdict(Delivery.MET, 1.05), Verdict(Delivery.UNDER, 0.4)
    found = EventCurtailment(
        event_id="evt-1",
        total=CURTAILMENT.total,
        sites=(
            SiteCurtailment("ven-a", "site-02", (interval(0, 6.0, 9.0, 5.5, 2.4),), 0.4, under),
            SiteCurtailment("ven-b", "site-01", (interval(0, 6.0, 9.0, 5.5, 6.3), interval(1, 6.0, 9.0, None, None)), 1.05, met),
        ),
        ratio=0.6,
        delivery=under,
    )
    blocks = curtailment_blocks(found, MARTINIQUE)
    assert [(b.title, b.verdict.delivery, b.reported, b.counted) for b in blocks] == [
        ("All sites", Delivery.UNDER, 2, 3),
        ("site-01", Delivery.MET, 1, 2),
        ("site-02", Delivery.UNDER, 1, 1),
    ]
