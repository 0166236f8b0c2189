"""mapping.curtailment: resampling with quality flags, three baselines, achieved curtailment and totals.

Times in the examples are Martinique wall-clock times (UTC−4, no DST); 26 November 2026 is a Thursday.
"""

import math
import statistics
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mapping.curtailment import (
    LOCAL_TZ,
    Baseline,
    CurtailmentRefused,
    Flag,
    Measured,
    Sample,
    event_slots,
    rectangle,
    resample,
    x_of_y,
)
from mapping.curtailment.achieved import achieved, requested_from_limit, totals
from mapping.curtailment.baseline import (
    COUNTERFACTUAL,
    RECTANGLE,
    X_OF_Y,
    BaselineConfig,
    compute_baseline,
    counterfactual,
    history_window,
)
from mapping.curtailment.calendar import ALL_DAYS, SAME_KIND, WEEKDAYS, WEEKENDS, is_weekend_like, similar_days
from mapping.grid import QUARTER, Segment, floor_slot

MINUTE = timedelta(minutes=1)
NOV = 11


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A Martinique wall-clock time in November 2026, as UTC."""
    return datetime(2026, NOV, day, hour, minute, second, tzinfo=LOCAL_TZ).astimezone(UTC)


T0 = at(26, 18)  # Thursday 18:00 in Martinique = 22:00 UTC


def measured(start: datetime, kw: float | None, coverage: float = 1.0, flags: tuple[Flag, ...] = ()) -> Measured:
    if kw is None:
        return Measured(start, None, 0, 0.0, frozenset({Flag.MISSING}))
    return Measured(start, kw, 15, coverage, frozenset(flags))


def base(start: datetime, kw: float | None, flags: tuple[Flag, ...] = ()) -> Baseline:
    return Baseline(start, kw, frozenset(flags) | ({Flag.MISSING} if kw is None else set()))


# --- resampling -----------------------------------------------------------------------------


def test_resample_hand_computed_means_coverage_and_flags():
    samples = [Sample(T0 + i * MINUTE, 10.0 if i < 10 else 16.0) for i in range(15)]  # 18:00–18:14, one a minute
    samples += [Sample(T0 + (15 + i) * MINUTE, 8.0, estimated=(i == 2)) for i in range(6)]  # 18:15–18:20, 18:17 estimated
    first, second, third = resample(samples, T0, T0 + 45 * MINUTE, max_hold=MINUTE, min_coverage=0.9)
    # 18:00: 10 minutes at 10 kW and 5 at 16 kW → (10×10 + 5×16) / 15 = 180 / 15 = 12 kW; 15 × 1 min = full coverage
    assert (first.start, first.kw, first.samples, first.coverage, first.flags) == (T0, 12.0, 15, 1.0, frozenset())
    # 18:15: 6 samples × 1 min = 6 of 15 minutes → coverage 0.4 < 0.9 → partial; one estimated → estimated; mean 8
    assert (second.kw, second.samples, second.coverage) == (8.0, 6, 0.4)
    assert second.flags == {Flag.PARTIAL, Flag.ESTIMATED}
    # 18:30: nothing → missing, no value, never the neighbour's
    assert (third.kw, third.samples, third.coverage, third.flags) == (None, 0, 0.0, {Flag.MISSING})
    assert third.end == T0 + 45 * MINUTE


def test_irregular_samples_are_weighted_by_the_time_they_stand_for():
    samples = [Sample(T0, 10.0), Sample(T0 + 10 * MINUTE, 20.0)]
    # hold 5 min: 10 kW over 18:00–18:05, 20 kW over 18:10–18:15 → mean (5×10 + 5×20) / 10 = 15, coverage 10/15
    [short] = resample(samples, T0, T0 + QUARTER, max_hold=5 * MINUTE)
    assert short.kw == 15.0 and short.coverage == pytest.approx(2 / 3) and short.flags == {Flag.PARTIAL}
    # hold 10 min: 10 kW over 18:00–18:10 (until the next sample), 20 kW over 18:10–18:15 (until the interval ends)
    # → (10×10 + 5×20) / 15 = 200 / 15 = 13.33… kW, coverage 1
    [long] = resample(samples, T0, T0 + QUARTER, max_hold=10 * MINUTE)
    assert long.kw == pytest.approx(200 / 15) and long.coverage == 1.0 and long.flags == frozenset()


def test_a_sample_never_lends_its_value_to_the_next_interval():
    # 18:14 held 5 min would reach 18:19, but stops at 18:15: 1 minute of 15 in the first interval, nothing in the next
    first, second = resample([Sample(at(26, 18, 14), 7.0)], T0, T0 + 2 * QUARTER, max_hold=5 * MINUTE)
    assert (first.kw, first.coverage) == (7.0, pytest.approx(1 / 15))
    assert (second.kw, second.flags) == (None, {Flag.MISSING})


def test_samples_sharing_a_timestamp_share_its_time():
    # two readings at 18:00 held 15 min: each stands for half of it → (10 + 14) / 2 = 12
    [slot] = resample([Sample(T0, 10.0), Sample(T0, 14.0, estimated=True)], T0, T0 + QUARTER, max_hold=QUARTER)
    assert (slot.kw, slot.samples, slot.coverage, slot.flags) == (12.0, 2, 1.0, {Flag.ESTIMATED})


def test_samples_in_any_time_zone_land_on_martinique_quarter_hours():
    local = datetime(2026, NOV, 26, 18, 7, tzinfo=LOCAL_TZ)  # 18:07 in Martinique
    paris = local.astimezone(timezone(timedelta(hours=1)))  # 23:07 in Paris, the same instant
    for moment in (local, paris):
        [slot] = resample([Sample(moment, 5.0)], moment, moment + MINUTE, max_hold=MINUTE)
        assert slot.start == T0 and slot.start.astimezone(LOCAL_TZ).strftime("%H:%M") == "18:00"


@pytest.mark.parametrize(
    ("samples", "kwargs", "message"),
    [
        ([Sample(datetime(2026, NOV, 26, 22), 1.0)], {}, "no time zone"),
        ([Sample(T0, math.nan)], {}, "not a number"),
        ([Sample(T0, math.inf)], {}, "not a number"),
        ([], {"max_hold": timedelta(0)}, "positive"),
        ([], {"min_coverage": 1.5}, "outside 0–1"),
        ([], {"end": T0}, "not after start"),
    ],
)
def test_resample_refuses_what_it_cannot_average(samples, kwargs, message):
    arguments = {"start": T0, "end": T0 + QUARTER, "max_hold": MINUTE} | kwargs
    with pytest.raises(CurtailmentRefused, match=message):
        resample(samples, **arguments)


# --- rectangle ------------------------------------------------------------------------------


def test_rectangle_is_the_flat_mean_of_the_hour_before():
    history = [measured(at(26, 17, 15 * i), kw) for i, kw in enumerate([10.0, 12.0, 14.0, 16.0])]
    result = rectangle(T0, at(26, 19), history, minutes=60)
    # (10 + 12 + 14 + 16) / 4 = 52 / 4 = 13 kW over each of the 4 event intervals 18:00, 18:15, 18:30, 18:45
    assert [(b.start, b.kw, b.flags) for b in result] == [(T0 + i * QUARTER, 13.0, frozenset()) for i in range(4)]
    assert result[0].used == tuple(at(26, 17, 15 * i) for i in range(4))


def test_rectangle_with_holes_and_partial_intervals():
    full = [measured(at(26, 17, 15 * i), kw) for i, kw in enumerate([10.0, 12.0, 14.0, 16.0])]
    holed = [full[0], measured(at(26, 17, 15), None), full[2], full[3]]
    # 17:15 missing: (10 + 14 + 16) / 3 = 40 / 3, flagged: 3 intervals of the 4 the hour holds
    [b] = rectangle(T0, T0 + QUARTER, holed)
    assert b.kw == pytest.approx(40 / 3) and b.flags == {Flag.INSUFFICIENT_HISTORY}
    # 17:45 seen half the time: weight 0.5 → (10 + 12 + 14 + 0.5×16) / 3.5 = 44 / 3.5 = 12.571… kW, partial passed on
    halved = [*full[:3], measured(at(26, 17, 45), 16.0, coverage=0.5, flags=(Flag.PARTIAL,))]
    [b] = rectangle(T0, T0 + QUARTER, halved)
    assert b.kw == pytest.approx(44 / 3.5) and b.flags == {Flag.PARTIAL}
    # nothing before the event: no value
    [b] = rectangle(T0, T0 + QUARTER, [])
    assert b.kw is None and b.flags == {Flag.MISSING, Flag.INSUFFICIENT_HISTORY}


def test_rectangle_of_an_event_starting_off_the_grid_ends_at_its_first_interval():
    history = [measured(at(26, 17, 30), 8.0), measured(at(26, 17, 45), 6.0)]
    # start 18:05: the event owns the 18:00 interval, the reference is 17:30–18:00 → (8 + 6) / 2 = 7
    result = rectangle(at(26, 18, 5), at(26, 18, 20), history, minutes=30)
    assert [(b.start, b.kw) for b in result] == [(T0, 7.0), (T0 + QUARTER, 7.0)]


# --- x-of-y ---------------------------------------------------------------------------------

#: 18:00 and 18:15 of the days before Thursday 26 November; Sat 21 is a weekend day, Wed 18 is 6 weekdays back
X_OF_Y_HISTORY = {
    (25, 0): 20.0, (24, 0): 22.0, (23, 0): 18.0, (20, 0): 30.0, (19, 0): 25.0, (21, 0): 100.0, (18, 0): 99.0,
    (25, 15): 21.0, (24, 15): 23.0, (23, 15): 19.0, (20, 15): None, (19, 15): 26.0, (21, 15): 100.0, (18, 15): 99.0,
}  # fmt: skip


def _x_of_y_history(overrides: dict[tuple[int, int], float | None] | None = None) -> list[Measured]:
    values = X_OF_Y_HISTORY | (overrides or {})
    return [measured(at(day, 18, minute), kw) for (day, minute), kw in values.items()]


def test_high_4_of_5_weekdays_hand_computed():
    first, second = x_of_y(T0, at(26, 18, 30), _x_of_y_history())
    # the last 5 weekdays: Wed 25, Tue 24, Mon 23, Fri 20, Thu 19 (the weekend and Wed 18 are not looked at);
    # their means over the event: 20.5, 22.5, 18.5, 30 (its one value), 25.5 → the 4 highest days: Fri 20, Thu 19,
    # Tue 24, Wed 25 (Mon 23 is dropped for both intervals: days are chosen whole, not value by value)
    # 18:00: 30, 25, 22, 20 → 97 / 4 = 24.25
    assert (first.kw, first.flags) == (24.25, frozenset())
    assert first.used == (at(19, 18), at(20, 18), at(24, 18), at(25, 18))
    # 18:15: Fri 20 has no value → 26, 23, 21 → 70 / 3, three of the four days asked for; Mon 23 does not stand in
    assert (second.kw, second.flags) == (70 / 3, {Flag.INSUFFICIENT_HISTORY})


def test_x_of_y_with_too_few_days_is_flagged_and_with_none_is_missing():
    # 18:00 without Fri 20 and Thu 19: 20, 22, 18 → 60 / 3 = 20, only 3 of the 4 values asked for
    [b] = x_of_y(T0, T0 + QUARTER, _x_of_y_history({(20, 0): None, (19, 0): None}))
    assert (b.kw, b.flags) == (20.0, {Flag.INSUFFICIENT_HISTORY})
    [b] = x_of_y(T0, T0 + QUARTER, [])
    assert (b.kw, b.flags, b.used) == (None, {Flag.MISSING, Flag.INSUFFICIENT_HISTORY}, ())


def test_x_of_y_passes_over_excluded_days_and_inherits_flags():
    history = _x_of_y_history({(20, 0): None}) + [measured(at(20, 18), 30.0, coverage=0.5, flags=(Flag.PARTIAL, Flag.ESTIMATED))]
    history = [h for h in history if h.kw is not None]
    # Tue 24 is a holiday: the 5 weekdays are Wed 25, Mon 23, Fri 20, Thu 19, Wed 18 → 20, 18, 30, 25, 99
    # → the 4 highest 99, 30, 25, 20 → 174 / 4 = 43.5; Fri 20 was partial and estimated, and is used
    [b] = x_of_y(T0, T0 + QUARTER, history, excluded_days={date(2026, NOV, 24)})
    assert (b.kw, b.flags) == (43.5, {Flag.PARTIAL, Flag.ESTIMATED})


def test_x_of_y_on_weekends():
    saturday = at(28, 10)
    history = [measured(at(22, 10), 40.0), measured(at(21, 10), 50.0), measured(at(15, 10), 44.0), measured(at(27, 10), 1.0)]
    # the last 3 weekend days before Sat 28: Sun 22, Sat 21, Sun 15 → 40, 50, 44 → the 2 highest 50, 44 → 94 / 2 = 47
    [b] = x_of_y(saturday, saturday + QUARTER, history, x=2, y=3, days=WEEKENDS)
    assert b.kw == 47.0
    assert similar_days(date(2026, NOV, 28), 3, SAME_KIND) == (date(2026, NOV, 22), date(2026, NOV, 21), date(2026, NOV, 15))
    assert similar_days(date(2026, NOV, 26), 3, ALL_DAYS) == (date(2026, NOV, 25), date(2026, NOV, 24), date(2026, NOV, 23))


def test_x_of_y_of_an_event_across_midnight_reads_the_previous_nights():
    # Thursday 23:45 → Friday 00:15 (Martinique): the Friday 00:00 interval compares with the nights after each chosen day
    history = [measured(at(25, 23, 45), 5.0), measured(at(26, 0), 7.0)]
    first, second, _ = x_of_y(at(26, 23, 45), at(27, 0, 30), history, x=1, y=1)
    # the one weekday before Thursday 26 is Wed 25: 23:45 on Wed 25 → 5; 00:00 the night Wed 25 → Thu 26 → 7
    assert (first.kw, second.kw) == (5.0, 7.0)


# --- counterfactual -------------------------------------------------------------------------


def test_counterfactual_is_averaged_onto_the_grid():
    schedule = [Segment(at(26, 18), at(26, 19), 12.0)]  # hourly step
    schedule += [Segment(at(26, 19, 5 * i), at(26, 19, 5 * i + 5), kw) for i, kw in enumerate([9.0, 12.0, 15.0])]  # 5-min steps
    schedule += [Segment(at(26, 19, 15), at(26, 19, 20), 7.0)]  # the plan stops at 19:20
    result = counterfactual(T0, at(26, 19, 45), schedule)
    # 18:00–18:45: 12 each; 19:00: (9 + 12 + 15) / 3 = 12; 19:15: only 5 of 15 minutes → 7, partial; 19:30: missing
    assert [b.kw for b in result] == [12.0, 12.0, 12.0, 12.0, 12.0, 7.0, None]
    assert [b.flags for b in result[-2:]] == [{Flag.PARTIAL}, {Flag.MISSING}]
    assert all(b.flags == frozenset() and b.used == () for b in result[:5])


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ([Segment(T0, T0 + QUARTER, 1.0), Segment(T0 + 5 * MINUTE, T0 + QUARTER, 2.0)], "overlap"),
        ([Segment(T0, T0, 1.0)], "not after its start"),
        ([Segment(datetime(2026, NOV, 26, 22), datetime(2026, NOV, 26, 23), 1.0)], "no time zone"),
        ([Segment(T0, T0 + QUARTER, math.nan)], "not a number"),
    ],
)
def test_counterfactual_refuses_schedules_it_cannot_trust(schedule, message):
    with pytest.raises(CurtailmentRefused, match=message):
        counterfactual(T0, T0 + QUARTER, schedule)


# --- configuration and dispatch -------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"method": "regression"}, "not one of"),
        ({"method": RECTANGLE, "minutes": 20}, "multiple of 15"),
        ({"method": RECTANGLE, "minutes": 0}, "multiple of 15"),
        ({"method": X_OF_Y, "x": 6, "y": 5}, "1 ≤ x ≤ y"),
        ({"method": X_OF_Y, "x": 0}, "1 ≤ x ≤ y"),
        ({"method": X_OF_Y, "days": "holidays"}, "not one of"),
    ],
)
def test_config_refuses_unusable_settings(config, message):
    with pytest.raises(CurtailmentRefused, match=message):
        BaselineConfig(**config)


def test_compute_baseline_follows_the_program_config():
    history = _x_of_y_history() + [measured(at(26, 17, 45), 9.0)]
    assert compute_baseline(BaselineConfig(X_OF_Y), T0, T0 + QUARTER, history=history)[0].kw == 24.25
    assert compute_baseline(BaselineConfig(X_OF_Y, x=1, y=2), T0, T0 + QUARTER, history=history)[0].kw == 22.0  # max(20, 22)
    assert compute_baseline(BaselineConfig(RECTANGLE, minutes=15), T0, T0 + QUARTER, history=history)[0].kw == 9.0
    plan = [Segment(T0, T0 + QUARTER, 3.0)]
    assert compute_baseline(BaselineConfig(COUNTERFACTUAL), T0, T0 + QUARTER, schedule=plan)[0].kw == 3.0
    with pytest.raises(CurtailmentRefused, match="schedule"):
        compute_baseline(BaselineConfig(COUNTERFACTUAL), T0, T0 + QUARTER)
    with pytest.raises(CurtailmentRefused, match="two intervals"):
        compute_baseline(BaselineConfig(RECTANGLE), T0, T0 + QUARTER, history=[measured(at(26, 17), 1.0)] * 2)


def test_history_window_says_what_to_fetch():
    end = at(26, 19)
    assert history_window(BaselineConfig(RECTANGLE, minutes=60), T0, end) == (at(26, 17), T0)
    # 5 weekdays before Thu 26: Wed 25 … Thu 19 → from Thu 19 18:00 to Wed 25 19:00
    assert history_window(BaselineConfig(X_OF_Y), T0, end) == (at(19, 18), at(25, 19))
    assert history_window(BaselineConfig(COUNTERFACTUAL), T0, end) is None


# --- achieved -------------------------------------------------------------------------------


def test_achieved_hand_computed_against_an_import_limit():
    slots = [T0 + i * QUARTER for i in range(3)]  # 18:00, 18:15, 18:30
    baseline = [base(s, 24.0) for s in slots]
    meter = [measured(slots[0], 18.0), measured(slots[1], 21.0, flags=(Flag.ESTIMATED,)), measured(slots[2], None)]
    limit = [Segment(T0, T0 + 3 * QUARTER, 20.0)]
    first, second, third = achieved(baseline, meter, import_limit=limit)
    # 18:00: 24 − 18 = 6 kW → 6 × 0.25 h = 1.5 kWh; asked max(0, 24 − 20) = 4 kW → 1 kWh; ratio 6 / 4 = 1.5
    assert (first.achieved_kw, first.achieved_kwh, first.requested_kw, first.requested_kwh, first.ratio) == (
        6.0,
        1.5,
        4.0,
        1.0,
        1.5,
    )
    # 18:15: 24 − 21 = 3 kW → 0.75 kWh; ratio 3 / 4 = 0.75; the meter's estimate is passed on
    assert (second.achieved_kw, second.achieved_kwh, second.ratio, second.flags) == (3.0, 0.75, 0.75, {Flag.ESTIMATED})
    # 18:30: no measurement → nothing achieved, though 4 kW were asked
    assert (third.measured_kw, third.achieved_kw, third.achieved_kwh, third.requested_kw, third.ratio) == (
        None,
        None,
        None,
        4.0,
        None,
    )
    assert third.flags == {Flag.MISSING}
    # totals: the hole makes the event total unknown; 1.5 + 0.75 = 2.25 kWh over the 2 intervals with values
    event = totals([first, second, third])
    assert (event.intervals, event.valued, event.achieved_kwh, event.achieved_kwh_valued) == (3, 2, None, 2.25)
    assert (event.requested_kwh, event.ratio, event.flags) == (3.0, None, {Flag.MISSING, Flag.ESTIMATED})
    # without the hole: 2.25 kWh achieved of 2 kWh asked → 1.125
    complete = totals([first, second])
    assert (complete.achieved_kwh, complete.requested_kwh, complete.ratio) == (2.25, 2.0, 1.125)


def test_achieved_against_a_requested_reduction_and_its_edge_cases():
    slots = [T0 + i * QUARTER for i in range(3)]
    baseline = [base(slots[0], 24.0), base(slots[1], 24.0), base(slots[2], None, (Flag.INSUFFICIENT_HISTORY,))]
    meter = [measured(slots[0], 18.0), measured(slots[1], 26.0)]
    first, second, third = achieved(baseline, meter, requested=[Segment(T0, T0 + 2 * QUARTER, 5.0)])
    assert (first.achieved_kw, first.ratio) == (6.0, 1.2)  # 6 / 5
    assert (second.achieved_kw, second.ratio) == (-2.0, -0.4)  # drew 2 kW more than the baseline: −2 / 5
    # no baseline, no measurement, nothing requested at 18:30: everything unknown, both inputs' flags kept
    assert (third.achieved_kw, third.requested_kw, third.ratio) == (None, None, None)
    assert third.flags == {Flag.MISSING, Flag.INSUFFICIENT_HISTORY}


def test_a_limit_above_the_baseline_asks_for_nothing():
    [b] = achieved([base(T0, 24.0)], [measured(T0, 18.0)], import_limit=[Segment(T0, T0 + QUARTER, 30.0)])
    assert (b.achieved_kw, b.requested_kw, b.ratio, b.flags) == (6.0, 0.0, None, {Flag.NOTHING_REQUESTED})
    event = totals([b])
    assert (event.achieved_kwh, event.requested_kwh, event.ratio) == (1.5, 0.0, None)
    assert Flag.NOTHING_REQUESTED in event.flags
    assert requested_from_limit(24.0, 20.0) == 4.0 and requested_from_limit(None, 20.0) is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"requested": [], "import_limit": []}, "not both"),
        ({"import_limit": [Segment(T0 + MINUTE, T0 + QUARTER, 5.0)]}, "not on the 15-minute grid"),
        ({"requested": [Segment(T0, T0 + QUARTER, 5.0), Segment(T0, T0 + 2 * QUARTER, 4.0)]}, "overlap"),
    ],
)
def test_achieved_refuses_ambiguous_requests(kwargs, message):
    with pytest.raises(CurtailmentRefused, match=message):
        achieved([base(T0, 24.0)], [measured(T0, 18.0)], **kwargs)


def test_achieved_refuses_intervals_off_the_grid():
    with pytest.raises(CurtailmentRefused, match="not on the 15-minute grid"):
        achieved([base(T0, 24.0)], [measured(T0 + MINUTE, 18.0)])


def test_values_that_are_not_numbers_are_refused_wherever_they_enter():
    with pytest.raises(CurtailmentRefused, match="not a number"):
        achieved([base(T0, math.nan)], [measured(T0, 1.0)])
    with pytest.raises(CurtailmentRefused, match="not a number"):
        x_of_y(T0, T0 + QUARTER, [measured(at(25, 18), math.inf)])
    with pytest.raises(CurtailmentRefused, match="not a number"):
        achieved([base(T0, 1.0)], [measured(T0, 1.0)], requested=[Segment(T0, T0 + QUARTER, math.nan)])
    # a value that saw no time cannot weigh in a mean (resample never makes one)
    with pytest.raises(CurtailmentRefused, match="no weight"):
        rectangle(T0, T0 + QUARTER, [Measured(at(26, 17, 45), 5.0, 1, 0.0, frozenset())], minutes=15)


# --- properties -----------------------------------------------------------------------------

kw = st.floats(min_value=-1000, max_value=1000, allow_nan=False)
maybe_kw = st.one_of(st.none(), kw)


@given(
    st.sampled_from([10, 30, 60, 180, 300, 900]),  # spacings that divide 15 minutes, in seconds
    st.integers(min_value=0, max_value=200),
    st.lists(kw, min_size=1, max_size=120),
)
def test_resampling_conserves_the_mean_of_uniform_samples(spacing, offset, values):
    step = timedelta(seconds=spacing)
    first = T0 + offset * step
    samples = [Sample(first + i * step, v) for i, v in enumerate(values)]
    result = resample(samples, first, first + len(values) * step, max_hold=step)
    assert all(m.kw is not None for m in result), "uniform samples leave no gap"
    assert sum(m.samples for m in result) == len(values)
    for m in result:
        assert m.coverage == m.samples * step / QUARTER
    # each interval weighs what it saw: the time-weighted mean of the interval means is the mean of the samples
    overall = math.fsum(m.kw * m.coverage for m in result) / math.fsum(m.coverage for m in result)
    assert overall == pytest.approx(statistics.fmean(values), abs=1e-9)


@given(
    st.lists(st.integers(min_value=0, max_value=119), max_size=120, unique=True), st.sets(st.integers(min_value=0, max_value=7))
)
def test_gaps_produce_missing_not_values(minutes, dropped):
    # minute samples over 18:00–20:00, then every sample of the dropped intervals taken away
    samples = [Sample(T0 + m * MINUTE, float(m)) for m in minutes if m // 15 not in dropped]
    stamped = {floor_slot(s.at) for s in samples}
    for m in resample(samples, T0, T0 + 8 * QUARTER, max_hold=5 * MINUTE):
        if m.start in stamped:
            assert m.kw is not None and Flag.MISSING not in m.flags and m.samples > 0 and m.coverage > 0
            inside = [s.kw for s in samples if floor_slot(s.at) == m.start]
            assert min(inside) <= m.kw <= max(inside)
        else:
            assert (m.kw, m.samples, m.coverage, m.flags) == (None, 0, 0.0, {Flag.MISSING})
        if (m.start - T0) // QUARTER in dropped:
            assert m.kw is None


@st.composite
def x_of_y_cases(draw: st.DrawFn) -> tuple:
    event_start = at(26, 0) + draw(st.integers(min_value=0, max_value=6)) * timedelta(days=1)
    event_start += draw(st.integers(min_value=0, max_value=95)) * QUARTER
    length = draw(st.integers(min_value=1, max_value=4))
    y = draw(st.integers(min_value=1, max_value=5))
    x = draw(st.integers(min_value=1, max_value=y))
    days = draw(st.sampled_from([WEEKDAYS, WEEKENDS, ALL_DAYS, SAME_KIND]))
    values = draw(st.lists(maybe_kw, min_size=20 * length, max_size=20 * length))
    history = [
        measured(event_start - (back + 1) * timedelta(days=1) + i * QUARTER, values[back * length + i])
        for back in range(20)
        for i in range(length)
    ]
    return event_start, length, x, y, days, history


@given(x_of_y_cases())
def test_x_of_y_stays_within_its_inputs(case):
    event_start, length, x, y, days, history = case
    result = x_of_y(event_start, event_start + length * QUARTER, history, x, y, days)
    by_start = {m.start: m.kw for m in history}
    chosen = similar_days(event_start.astimezone(LOCAL_TZ).date(), y, days)
    anchor = event_start.astimezone(LOCAL_TZ).date()
    for b in result:
        inputs = [v for v in (by_start.get(b.start - (anchor - d)) for d in chosen) if v is not None]
        if b.kw is None:
            assert Flag.MISSING in b.flags
            continue
        assert min(inputs) <= b.kw <= max(inputs)
        assert len(b.used) <= x
        assert (Flag.INSUFFICIENT_HISTORY in b.flags) == (len(b.used) < x)
    complete = [[by_start.get(b.start - (anchor - d)) for b in result] for d in chosen]
    if all(v is not None for day in complete for v in day):
        # whole days with the highest load are chosen: the baseline's mean is never below the mean of all the days
        assert statistics.fmean(b.kw for b in result) >= statistics.fmean(v for day in complete for v in day) - 1e-9


@given(st.lists(st.tuples(maybe_kw, maybe_kw), min_size=1, max_size=12))
def test_achieved_is_baseline_minus_measured_exactly(pairs):
    slots = [T0 + i * QUARTER for i in range(len(pairs))]
    result = achieved(
        [base(s, b) for s, (b, _) in zip(slots, pairs, strict=True)],
        [measured(s, m) for s, (_, m) in zip(slots, pairs, strict=True)],
    )
    for a, (b, m) in zip(result, pairs, strict=True):
        if b is not None and m is not None:
            assert a.achieved_kw == b - m and a.achieved_kwh == (b - m) * 0.25 and Flag.MISSING not in a.flags
        else:
            assert a.achieved_kw is None and a.achieved_kwh is None and Flag.MISSING in a.flags
    event = totals(result)
    known = [a.achieved_kwh for a in result if a.achieved_kwh is not None]
    assert event.achieved_kwh_valued == math.fsum(known)
    assert event.achieved_kwh == (math.fsum(known) if len(known) == len(result) else None)


#: time zones the samples may come in: UTC, the site's, and some with half-hour offsets
zones = st.sampled_from(
    [
        UTC,
        LOCAL_TZ,
        timezone(timedelta(hours=1)),
        timezone(timedelta(hours=5, minutes=30)),
        timezone(timedelta(hours=-9, minutes=-30)),
    ]
)


def _on_martinique_quarter_hour(moment: datetime) -> bool:
    local = moment.astimezone(LOCAL_TZ)
    return local.minute % 15 == 0 and local.second == 0 and local.microsecond == 0


@given(
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=zones),
    st.integers(min_value=1, max_value=600),
)
def test_intervals_sit_on_the_martinique_quarter_hour_grid(moment, minutes):
    [slot] = resample([Sample(moment, 1.0)], moment, moment + timedelta(microseconds=1), max_hold=MINUTE)
    assert _on_martinique_quarter_hour(slot.start) and slot.start <= moment < slot.end and slot.samples == 1
    slots = event_slots(moment, moment + timedelta(minutes=minutes))
    assert all(_on_martinique_quarter_hour(s) and s.tzinfo == UTC for s in slots)
    assert slots[0] <= moment < slots[0] + QUARTER and slots[-1] < moment + timedelta(minutes=minutes) <= slots[-1] + QUARTER
    assert all(b - a == QUARTER for a, b in zip(slots, slots[1:], strict=False))


@given(
    st.integers(min_value=0, max_value=365 * 4),
    st.integers(min_value=0, max_value=95),
    st.sampled_from([WEEKDAYS, WEEKENDS, ALL_DAYS]),
)
def test_x_of_y_reads_the_same_martinique_wall_clock_on_earlier_days(day, quarter, days):
    start = at(26, 0) + day * timedelta(days=1) + quarter * QUARTER
    history = [measured(start - back * timedelta(days=1) + i * QUARTER, float(back)) for back in range(1, 15) for i in range(2)]
    for b in x_of_y(start, start + 2 * QUARTER, history, x=2, y=3, days=days):
        assert len(b.used) == 2
        for used in b.used:
            assert used.astimezone(LOCAL_TZ).time() == b.start.astimezone(LOCAL_TZ).time()
            # the day it stands for: where the event's first interval falls on that earlier day
            day = (used - (b.start - start)).astimezone(LOCAL_TZ).date()
            assert day < start.astimezone(LOCAL_TZ).date()
            assert days == ALL_DAYS or is_weekend_like(day) == (days == WEEKENDS)
