"""The standard baseline methods of mapping/curtailment, on worked examples built from their published rules.

Sources (docs/curtailment.md cites them in full): PJM Manual 11 §10 (Economic Load Response CBL: high 4 of 5
weekdays, low-usage days under 25 %, Symmetric Additive Adjustment over the 3 hours ending 1 hour before the
event or the notice); NYISO's Average-Day CBL (5 highest of 10 weekdays, in-day multiplicative adjustment over
the 2 hours beginning 4 hours before the event, within 0.8–1.2); CAISO's 10-in-10 with its ±20 % / ±40 % load
point adjustment; RTE's NEBEF rules (rectangle reference curves, neutralisation); NAESB WEQ-015 (meter
before / meter after); control-group (difference in differences) estimates of residential programs. None of
the reachable copies of these texts printed a numeric example, so each example here is computed by hand from
the rule, in the comment beside it.

Times are Martinique wall-clock (UTC−4, no DST); Thursday 26 November 2026 is the event day.
"""

from datetime import UTC, date, datetime, timedelta

import pytest

from mapping.curtailment import (
    ADDITIVE,
    MULTIPLICATIVE,
    Adjustment,
    BaselineConfig,
    CurtailmentRefused,
    Flag,
    Measured,
    MeterStep,
    achieved,
    compute_baseline,
    control_group,
    describe,
    history_window,
    is_holiday,
    rectangle,
    rectangle_double,
    similar_days,
    step_means,
    x_of_y,
)
from mapping.curtailment._common import LOCAL_TZ
from mapping.grid import QUARTER

DAY = timedelta(days=1)


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    """A Martinique wall-clock time in 2026, as UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=LOCAL_TZ).astimezone(UTC)


def flat(start: datetime, hours: float, kw: float) -> list[Measured]:
    """`hours` of 15-minute intervals at `kw` from `start`."""
    return [Measured(start + i * QUARTER, kw, 15, 1.0, frozenset()) for i in range(round(hours * 4))]


WEEKDAYS_BEFORE_26 = [25, 24, 23, 20, 19, 18, 17, 16, 13, 12]  # the ten weekdays before Thursday 26 November 2026


def test_pjm_high_4_of_5_with_symmetric_additive_adjustment():
    # Event 14:00–16:00 (hours ending 15 and 16). Days D1..D5 = Wed 25 … Thu 19, flat over 10:00–13:00 and 14:00–16:00:
    # D1 100 / 110, D2 90 / 100, D3 80 / 90, D4 120 / 130, D5 60 / 70 (event-period means 110, 100, 90, 130, 70;
    # none under 25 % of their mean 100). High 4 of 5 drops D5: 97.5 kW over 10:00–13:00, 107.5 kW over the event.
    history = []
    for day, (before, during) in zip(WEEKDAYS_BEFORE_26, [(100, 110), (90, 100), (80, 90), (120, 130), (60, 70)], strict=False):
        history += flat(at(day, 10), 3, before) + flat(at(day, 14), 2, during)
    history += flat(at(26, 10), 3, 105.0)  # the event day: 105 kW over the adjustment window
    saa = Adjustment(ADDITIVE, minutes=180, gap_minutes=60, cap=None)  # 3 hours ending 1 hour before the event
    result = x_of_y(at(26, 14), at(26, 16), history, 4, 5, low_usage_share=0.25, adjustment=saa)
    # adjustment = 105 − 97.5 = +7.5 → 107.5 + 7.5 = 115 kW in every event interval
    assert {b.kw for b in result} == {115.0}
    assert {b.unadjusted_kw for b in result} == {107.5}
    meter = flat(at(26, 14), 1, 80.0) + flat(at(26, 15), 1, 85.0)
    first_hour = sum(a.achieved_kwh for a in achieved(result, meter)[:4])
    second_hour = sum(a.achieved_kwh for a in achieved(result, meter)[4:])
    assert (first_hour, second_hour) == pytest.approx((35.0, 30.0))


def test_pjm_adjustment_window_ends_before_an_earlier_notice():
    # notified at 11:00 for a 14:00 event: the window is the 3 hours ending 1 hour before the notice, 07:00–10:00
    saa = Adjustment(ADDITIVE, minutes=180, gap_minutes=60, cap=None)
    assert saa.window(at(26, 14), at(26, 11))[0] == at(26, 7)
    assert saa.window(at(26, 14), at(26, 11))[-1] == at(26, 9, 45)
    # a notice inside a quarter hour leaves that quarter hour out whole
    assert saa.window(at(26, 14), at(26, 11, 7))[-1] == at(26, 9, 45)


def test_nyiso_5_of_10_drops_a_low_usage_day_and_caps_the_ratio():
    # Ten weekdays flat at 50, 52, 55, 48, 60, 10, 58, 62, 45, 57 kW: mean 49.7, 25 % of it 12.4 → the 10 kW day goes;
    # the 5 highest of the rest 62, 60, 58, 57, 55 → 58.4 kW.
    history = []
    for day, kw in zip(WEEKDAYS_BEFORE_26, [50, 52, 55, 48, 60, 10, 58, 62, 45, 57], strict=True):
        history += flat(at(day, 0), 24, float(kw))
    history += flat(at(26, 10), 1, 70.0) + flat(at(26, 11), 1, 72.0)  # the window: the 2 hours beginning 4 hours before
    ratio = Adjustment(MULTIPLICATIVE, minutes=120, gap_minutes=120, cap=0.2)
    config = BaselineConfig("x-of-y", x=5, y=10, adjustment=ratio)
    result = compute_baseline(config, at(26, 14), at(26, 16), history=history)
    # 71 / 58.4 = 1.2158 → capped at 1.2 → 58.4 × 1.2 = 70.08 kW
    assert [b.kw for b in result] == pytest.approx([70.08] * 8)
    assert [b.unadjusted_kw for b in result] == pytest.approx([58.4] * 8)
    # all ten asked for: the low-usage day is still left out → the other nine, (497 − 10) / 9, one day short
    everyday = compute_baseline(BaselineConfig("x-of-y", x=10, y=10), at(26, 14), at(26, 16), history=history)
    assert [b.kw for b in everyday] == pytest.approx([487 / 9] * 8)
    assert all(Flag.INSUFFICIENT_HISTORY in b.flags for b in everyday)
    uncapped = compute_baseline(
        BaselineConfig("x-of-y", x=5, y=10, adjustment=Adjustment(MULTIPLICATIVE, 120, 120, None)),
        at(26, 14),
        at(26, 16),
        history=history,
    )
    assert [b.kw for b in uncapped] == pytest.approx([71.0] * 8)


@pytest.mark.parametrize(
    ("window_kw", "cap", "expected"), [(90.0, 0.2, 90.0), (130.0, 0.2, 120.0), (130.0, 0.4, 130.0), (50.0, 0.4, 60.0)]
)
def test_caiso_10_in_10_load_point_adjustment_within_its_cap(window_kw, cap, expected):
    history = [m for day in WEEKDAYS_BEFORE_26 for m in flat(at(day, 0), 24, 100.0)] + flat(at(26, 12), 3, window_kw)
    adjustment = Adjustment(MULTIPLICATIVE, minutes=180, gap_minutes=60, cap=cap)  # hours −4 to −1 before 16:00
    result = x_of_y(at(26, 16), at(26, 17), history, 10, 10, adjustment=adjustment)
    assert [b.kw for b in result] == pytest.approx([expected] * 4)


def test_adjustment_without_data_is_flagged_and_leaves_the_baseline():
    history = [m for day in WEEKDAYS_BEFORE_26 for m in flat(at(day, 0), 24, 100.0)]
    result = x_of_y(at(26, 16), at(26, 17), history, 10, 10, adjustment=Adjustment(ADDITIVE))
    assert {b.kw for b in result} == {100.0}
    assert all(Flag.UNADJUSTED in b.flags for b in result)


def test_x_of_y_skips_holidays_and_earlier_event_days():
    # Friday 22 May 2026 is Martinique's abolition-of-slavery day; Thursday 14 May is Ascension; 25 May Whit Monday
    assert is_holiday(date(2026, 5, 22)) and is_holiday(date(2026, 5, 14)) and is_holiday(date(2026, 5, 25))
    assert not is_holiday(date(2026, 5, 22), "FR")  # mainland France works on 22 May
    days = similar_days(date(2026, 5, 27), 5, excluded_days={date(2026, 5, 20)})
    # back from Wed 27 May: Tue 26, (Mon 25 holiday), (weekend), (Fri 22 holiday), Thu 21, (Wed 20 event day), Tue 19, Mon 18
    assert days == (date(2026, 5, 26), date(2026, 5, 21), date(2026, 5, 19), date(2026, 5, 18), date(2026, 5, 15))
    assert similar_days(date(2026, 5, 23), 2, "weekends") == (date(2026, 5, 22), date(2026, 5, 17))  # a holiday is a Sunday


def test_martinique_holidays_2024():
    # loi n° 83-550 (30 June 1983) and décret n° 83-1003 (23 November 1983): 22 May in Martinique; 21 July, Victor Schœlcher
    expected = {
        date(2024, 1, 1), date(2024, 4, 1), date(2024, 5, 1), date(2024, 5, 8), date(2024, 5, 9), date(2024, 5, 20),
        date(2024, 5, 22), date(2024, 7, 14), date(2024, 7, 21), date(2024, 8, 15), date(2024, 11, 1), date(2024, 11, 11),
        date(2024, 12, 25),
    }  # fmt: skip
    found = {date(2024, 1, 1) + timedelta(days=n) for n in range(366) if is_holiday(date(2024, 1, 1) + timedelta(days=n))}
    assert found == expected


def _precharging_day() -> list[Measured]:
    # 10 kW all afternoon; told at 16:30 of an 18:00 event, a battery charges 30 kW from 16:30 to 18:00 (preparation)
    return flat(at(26, 14), 2.5, 10.0) + flat(at(26, 16, 30), 1.5, 40.0)


def test_rectangle_ends_at_the_notice_so_pre_charging_earns_nothing():
    told = at(26, 16, 30)
    assert {b.kw for b in rectangle(at(26, 18), at(26, 19), _precharging_day(), 60, notified=told)} == {10.0}
    # without the notice (the event start taken for it) the charging hour becomes the baseline: 40 kW
    assert {b.kw for b in rectangle(at(26, 18), at(26, 19), _precharging_day(), 60)} == {40.0}
    # neutralised 30 minutes more: 15:00–16:00
    [b] = rectangle(at(26, 18), at(26, 18, 15), _precharging_day(), 60, notified=told, neutralisation=30)
    assert b.used[0] == at(26, 15) and b.used[-1] == at(26, 15, 45)


def test_rectangle_double_meets_the_drift_half_way():
    history = flat(at(26, 17), 1, 10.0) + flat(at(26, 18), 1, 3.0) + flat(at(26, 19), 0.5, 30.0) + flat(at(26, 19, 30), 1, 14.0)
    # before 17:00–18:00 = 10; after: 30 min neutralised (the rebound 19:00–19:30), then 19:30–20:30 = 14 → 12
    result = rectangle_double(at(26, 18), at(26, 19), history, 60, neutralisation=30)
    assert {b.kw for b in result} == {12.0}
    # the after side missing: the before side alone, flagged
    only_before = rectangle_double(at(26, 18), at(26, 19), history[:4], 60, neutralisation=30)
    assert {b.kw for b in only_before} == {10.0} and all(Flag.INSUFFICIENT_HISTORY in b.flags for b in only_before)


def test_meter_before_meter_after_on_a_device_meter():
    # a battery's own meter: 500 kW over the hour before deployment, 320 kW during → 180 kW delivered
    device = flat(at(26, 17), 1, 500.0)
    baseline = compute_baseline(BaselineConfig("meter-before-after", minutes=60), at(26, 18), at(26, 19), history=device)
    delivered = achieved(baseline, flat(at(26, 18), 1, 320.0))
    assert {a.achieved_kw for a in delivered} == {180.0}
    assert "device's own meter" in describe(BaselineConfig("meter-before-after", minutes=60))


def test_control_group_difference_in_differences():
    # the controls draw 2.4, 2.5, 2.6 kW before the notice and 2.7, 2.8, 2.9 during the event (means 2.5 and 2.8);
    # the called household 2.4 before → additive −0.1 → baseline 2.7; it draws 2.1 → 0.6 kW delivered
    controls = [
        flat(at(26, 16), 1, before) + flat(at(26, 18), 1, during) for before, during in [(2.4, 2.7), (2.5, 2.8), (2.6, 2.9)]
    ]
    called = flat(at(26, 16), 1, 2.4)
    window = Adjustment(ADDITIVE, minutes=60, gap_minutes=60, cap=None)
    baseline = control_group(at(26, 18), at(26, 19), called, controls, adjustment=window)
    assert [b.kw for b in baseline] == pytest.approx([2.7] * 4)
    assert [a.achieved_kw for a in achieved(baseline, flat(at(26, 18), 1, 2.1))] == pytest.approx([0.6] * 4)
    with pytest.raises(CurtailmentRefused, match="controls"):
        control_group(at(26, 18), at(26, 19), called, [])


def test_step_means_of_10_and_30_minute_load_curves():
    start = at(26, 18)
    tens = [
        MeterStep(start + i * timedelta(minutes=10), start + (i + 1) * timedelta(minutes=10), kw)
        for i, kw in enumerate([6.0, 12.0, 3.0])
    ]
    first, second = step_means(tens, start, start + 2 * QUARTER)
    assert (first.kw, second.kw) == pytest.approx(((10 * 6 + 5 * 12) / 15, (5 * 12 + 10 * 3) / 15))
    thirty = [MeterStep(start, start + 2 * QUARTER, 8.0, estimated=True)]
    assert [(m.kw, m.flags) for m in step_means(thirty, start, start + 3 * QUARTER)] == [
        (8.0, {Flag.ESTIMATED}),
        (8.0, {Flag.ESTIMATED}),
        (None, {Flag.MISSING}),
    ]
    with pytest.raises(CurtailmentRefused, match="overlap"):
        step_means([*thirty, MeterStep(start + QUARTER, start + 2 * QUARTER, 1.0)], start, start + QUARTER)


def test_history_window_reaches_the_adjustment_window_and_after_the_event():
    ratio = Adjustment(MULTIPLICATIVE, minutes=120, gap_minutes=120, cap=0.2)
    start, end = history_window(BaselineConfig("x-of-y", x=5, y=10, adjustment=ratio), at(26, 14), at(26, 16))
    assert (start, end) == (at(12, 10), at(26, 12))
    double = BaselineConfig("rectangle-double", minutes=60, neutralisation_minutes=30)
    assert history_window(double, at(26, 18), at(26, 19), notified=at(26, 17)) == (at(26, 15, 30), at(26, 20, 30))


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"method": "x-of-y", "holidays": "FR-971"}, "holidays"),
        ({"method": "x-of-y", "low_usage_share": 1.5}, "low_usage_share"),
        ({"method": "x-of-y", "y": 10, "lookback_days": 5}, "lookback_days"),
        ({"method": "rectangle", "neutralisation_minutes": 10}, "neutralisation_minutes"),
    ],
)
def test_config_names_the_setting_it_refuses(settings, field):
    with pytest.raises(CurtailmentRefused) as refused:
        BaselineConfig(**settings)
    assert refused.value.field == field


@pytest.mark.parametrize(
    ("settings", "field"), [({"kind": "ratio"}, "adjustment"), ({"kind": ADDITIVE, "cap": -0.1}, "adjustment_cap")]
)
def test_adjustment_names_the_setting_it_refuses(settings, field):
    with pytest.raises(CurtailmentRefused) as refused:
        Adjustment(**settings)
    assert refused.value.field == field
