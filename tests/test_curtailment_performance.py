"""Delivered against requested (mapping.curtailment.performance), the notice rule, and the readable table
(vtn.curtailment.table) that `cariflex reports curtailment --format table` and the demo print. Pure."""

from datetime import UTC, datetime, timedelta

import pytest

from mapping.curtailment import CurtailmentRefused
from mapping.curtailment.performance import Delivery, IntervalFigures, Verdict, notice_shares, verdict
from vtn.curtailment.query import CurtailmentInterval, EventCurtailment, SiteCurtailment
from vtn.curtailment.table import table_lines

T0 = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)  # 18:00 in Martinique
Q = timedelta(minutes=15)


def figures(*rows: tuple[float | None, float | None, float | None]) -> list[IntervalFigures]:
    """(requested, achieved, measured) per interval."""
    return [IntervalFigures(*row) for row in rows]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # an EV site at 75 % of what it was asked: under, however good its data
        (((4.0, 3.0, 5.0), (4.0, 3.0, 5.0)), Verdict(Delivery.UNDER, 0.75)),
        # the band's edges are met: 90 % and 120 %
        (((10.0, 9.0, 1.0),), Verdict(Delivery.MET, 0.9)),
        (((10.0, 12.0, 1.0),), Verdict(Delivery.MET, 1.2)),
        (((10.0, 12.5, 1.0),), Verdict(Delivery.OVER, 1.25)),
        # energy over the intervals with both: (5 + 2) / (4 + 4), an interval without data leaves the sum
        (((4.0, 5.0, 6.0), (4.0, 2.0, 9.0), (4.0, None, None)), Verdict(Delivery.UNDER, 0.875)),
        # a PV site drawing more than its baseline achieved less than nothing
        (((2.0, -0.8, 3.0),), Verdict(Delivery.UNDER, -0.4)),
        # a battery feeding the grid: export, whatever it was asked (25 times its request here)
        (((0.7, 17.5, -16.8),), Verdict(Delivery.EXPORT, 25.0)),
        (((0.0, 17.5, -16.8),), Verdict(Delivery.EXPORT, None)),
        (((0.0, 1.0, 3.0), (0.0, 0.5, 2.0)), Verdict(Delivery.NOTHING_ASKED, None)),
        (((None, 1.0, 3.0),), Verdict(Delivery.NOTHING_ASKED, None)),  # the request is unknown: no ratio either
        (((4.0, None, None), (4.0, None, None)), Verdict(Delivery.NO_DATA, None)),
        (((4.0, None, 5.0),), Verdict(Delivery.NO_DATA, None)),  # measured, but no baseline: nothing achieved to judge
        ((), Verdict(Delivery.NO_DATA, None)),
    ],
)
def test_the_verdict_says_what_the_site_delivered(rows, expected):
    found = verdict(figures(*rows))
    assert found.delivery == expected.delivery
    assert found.ratio == (pytest.approx(expected.ratio) if expected.ratio is not None else None)


def test_export_is_judged_on_the_mean_net_power_not_one_interval():
    # one interval of export, but the site drew 3 kW over the event on average: judged on its ratio
    assert verdict(figures((4.0, 4.0, -1.0), (4.0, 4.0, 7.0))) == Verdict(Delivery.MET, 1.0)


@pytest.mark.parametrize(
    ("created", "shares"),
    [
        (T0 - timedelta(hours=1), (1.0, 1.0, 1.0)),  # told before it began
        (T0, (1.0, 1.0, 1.0)),
        (T0 + timedelta(minutes=5), (2 / 3, 1.0, 1.0)),  # created 5 minutes into its first interval
        (T0 + Q + timedelta(minutes=12), (0.0, 0.2, 1.0)),  # the first interval was over before anyone was told
        (T0 + 3 * Q, (1.0, 1.0, 1.0)),  # created once it was over: a record, taken as recorded
        (T0 + timedelta(days=1), (1.0, 1.0, 1.0)),
    ],
)
def test_notice_shares_count_each_interval_from_the_events_creation(created, shares):
    assert notice_shares((T0, T0 + Q, T0 + 2 * Q), created, T0 + 3 * Q) == pytest.approx(shares)


def test_notice_shares_refuse_a_time_without_zone():
    with pytest.raises(CurtailmentRefused, match="created"):
        notice_shares((T0,), datetime(2026, 11, 26, 22, 5), T0 + Q)


def interval(n: int, requested, baseline, measured, achieved, quality="good", counted=True) -> CurtailmentInterval:
    return CurtailmentInterval(T0 + n * Q, T0 + (n + 1) * Q, requested, baseline, measured, achieved, quality, counted)


def test_the_table_has_a_line_per_site_by_name_a_total_and_what_the_numbers_mean():
    found = EventCurtailment(
        event_id="evt-1",
        total=(interval(0, 20.0, 30.0, 13.0, 17.0), interval(1, 20.0, 30.0, 14.0, 16.0)),
        sites=(
            SiteCurtailment(
                "ven-b",
                "site-21",
                (interval(0, 16.0, 24.0, 12.0, 12.0), interval(1, 16.0, 24.0, 14.0, 10.0, "estimated")),
                0.6875,
                Verdict(Delivery.UNDER, 0.6875),
            ),
            SiteCurtailment(
                "ven-a",
                "site-11",
                (interval(0, 4.0, 6.0, 1.0, 5.0), interval(1, 4.0, 6.0, None, None, "missing")),
                1.25,
                Verdict(Delivery.OVER, 1.25),
            ),
        ),
        ratio=0.82,
        delivery=Verdict(Delivery.UNDER, 0.82),
    )
    lines = table_lines(found)
    header = [
        "site",
        "requested",
        "baseline",
        "measured",
        "achieved",
        "ven",
        "claim",
        "delivered",
        "delivery",
        "state",
        "quality",
    ]
    assert lines[0].split() == header
    # no VEN claimed anything here (—); the sites are provisional (SiteCurtailment's default: not final)
    assert lines[1].split() == ["site-11", "4.00", "6.00", "1.00", "5.00", "—", "125%", "over", "provisional", "good,missing"]
    assert lines[2].split() == [
        "site-21",
        "16.00",
        "24.00",
        "13.00",
        "11.00",
        "—",
        "69%",
        "under",
        "provisional",
        "estimated,good",
    ]
    assert lines[3].split() == ["TOTAL", "20.00", "30.00", "13.50", "16.50", "—", "82%", "under", "provisional", "good"]
    assert lines[4].startswith("baseline: ")
    assert lines[5].startswith("kW, mean over the event's intervals")
    assert "under < 90% ≤ met ≤ 120% < over" in lines[6] and "export" in lines[6]
    assert lines[7].startswith("state: final")
    assert len(lines) == 8  # no before_notice line: every interval had notice


def test_the_table_leaves_intervals_before_notice_out_of_its_means_and_says_so():
    early = interval(0, 0.0, 10.0, 10.0, 0.0, "before_notice", counted=False)
    late = interval(1, 2.0, 10.0, 6.0, 4.0, "before_notice")
    site = SiteCurtailment("ven-a", "a-site-with-a-long-name", (early, late), 2.0, Verdict(Delivery.OVER, 2.0))
    lines = table_lines(EventCurtailment("evt-2", (early, late), (site,), 2.0, Verdict(Delivery.OVER, 2.0)))
    assert lines[1].split() == [
        "a-site-with-a-long-name",
        "2.00",
        "10.00",
        "6.00",
        "4.00",
        "—",
        "200%",
        "over",
        "provisional",
        "before_notice",
    ]
    assert lines[1].index(" 2.00 ") + 5 == lines[0].index("requested") + 9  # right-aligned under a long name
    assert lines[-1].startswith("before_notice: created after the interval began")


def test_the_table_without_reports_says_so():
    assert table_lines(EventCurtailment("evt-3", (), (), None)) == ["no curtailment reported yet for event evt-3"]


def test_a_site_with_nothing_to_judge_shows_dashes():
    site = SiteCurtailment("ven-a", "site-01", (interval(0, None, None, None, None, "missing"),), None)
    lines = table_lines(EventCurtailment("evt-4", site.intervals, (site,), None))
    assert lines[1].split() == ["site-01", "—", "—", "—", "—", "—", "—", "no", "data", "provisional", "missing"]
