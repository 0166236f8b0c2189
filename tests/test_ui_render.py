"""Pure parts of the operator UI: the curtailment chart, the event timeline, the site map, CSV lines."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mapping.oadr import model as m
from vtn.curtailment_query import CurtailmentInterval, EventCurtailment, SiteCurtailment
from vtn.store.event_log import EventRow, VenDelivery
from vtn.ui.chart import interval_rows, render_chart
from vtn.ui.pages_events import csv_line
from vtn.ui.sitemap import MapPoint, Site, load_sites, project, render_map
from vtn.ui.timeline import build_timeline

T0 = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)
Q = timedelta(minutes=15)


def interval(n: int, requested, baseline, measured, achieved, quality="good") -> CurtailmentInterval:
    return CurtailmentInterval(T0 + n * Q, T0 + (n + 1) * Q, requested, baseline, measured, achieved, quality)


CURTAILMENT = EventCurtailment(
    event_id="evt-1",
    total=(interval(0, 6.0, 9.0, 5.5, 3.5), interval(1, 6.0, 9.2, None, None, "missing"), interval(2, 6.0, 8.0, 6.5, 1.5)),
    sites=(SiteCurtailment("ven-1", "site-01", (interval(0, 6.0, 9.0, 5.5, 3.5),), 1.17),),
    ratio=0.83,
)


def test_chart_draws_each_series_and_a_bar_per_reported_interval():
    svg = render_chart(CURTAILMENT.total, "All sites")
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert len(re.findall(r'<rect class="achieved"', svg)) == 2  # the missing interval has no bar
    # the missing measurement breaks the measured line into two runs; requested and baseline are whole
    assert len(re.findall(r'<polyline class="measured_kw"', svg)) == 2
    assert len(re.findall(r'<polyline class="requested_kw"', svg)) == 1
    assert "achieved 3.50 kW" in svg and "achieved 1.50 kW" in svg


def test_chart_puts_a_higher_value_higher_on_the_page():
    svg = render_chart((interval(0, 2.0, 8.0, None, None),), "one")
    requested_y = float(re.search(r'class="requested_kw"[^>]*points="[\d.]+,([\d.]+)', svg).group(1))
    baseline_y = float(re.search(r'class="baseline_kw"[^>]*points="[\d.]+,([\d.]+)', svg).group(1))
    assert baseline_y < requested_y  # SVG y grows downwards


def test_chart_handles_negative_achieved_curtailment():
    svg = render_chart((interval(0, 6.0, 5.0, 7.0, -2.0),), "overshoot")
    assert 'class="achieved"' in svg and "achieved -2.00 kW" in svg


def test_empty_curtailment_draws_nothing():
    assert render_chart((), "nothing") == ""
    assert interval_rows(()) == []


def test_interval_rows_carry_the_numbers_of_the_chart():
    rows = interval_rows(CURTAILMENT.total)
    assert [r["achieved"] for r in rows] == ["3.50", "—", "1.50"]
    assert rows[1]["measured"] == "—" and rows[1]["quality"] == "missing"
    assert rows[0]["start"] == "2026-11-26 22:00" and rows[0]["end"] == "22:15"


def test_timeline_orders_what_happened_and_marks_the_cancellation():
    history = [(0, "created", T0 - timedelta(hours=2), "far"), (1, "operator said so", T0 - timedelta(minutes=5), "cancelled")]
    deliveries = [VenDelivery("ven-1", "site-01", T0 - timedelta(hours=1), 1, 0, "optIn", 200, T0 - timedelta(minutes=50))]
    moments = build_timeline(T0, timedelta(hours=1), history, deliveries, [], True, T0 + timedelta(hours=3))
    assert [m.kind for m in moments] == ["created", "delivered", "optIn", "cancelled"]  # a cancelled event never goes active


def test_timeline_shows_active_and_completed_once_their_time_has_come():
    history = [(0, "created", T0 - timedelta(hours=2), "far")]
    during = build_timeline(T0, timedelta(hours=1), history, [], [], False, T0 + timedelta(minutes=10))
    after = build_timeline(T0, timedelta(hours=1), history, [], [], False, T0 + timedelta(hours=2))
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
    svg = render_map([MapPoint(Site("site-01", "PV", 14.6161, -61.0588), "ven-1", True)], None)
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
    moments = build_timeline(T0, timedelta(hours=1), history, deliveries, [], False, T0 - timedelta(hours=1))
    assert [(m.kind, m.text.split(" (")[0]) for m in moments] == [
        ("created", "created"),
        ("delivered", "first delivered to 100 VENs"),
        ("optIn", "75 VENs: optIn"),
        ("optOut", "25 VENs: optOut"),
    ]
