"""mapping/flex/unmet.py: which events a schedule's breaches belong to, as opt-out windows."""

from datetime import UTC, datetime, timedelta

from mapping.flex.constraints import EXPORT_LIMIT, IMPORT_CEILING, IMPORT_FLOOR, IMPORT_LIMIT, PREPARATION_CEILING, Constraint
from mapping.flex.unmet import before, breached_windows, union

T0 = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)
Q = timedelta(minutes=15)


def limit(event_id: str, start: datetime, end: datetime, kw: float, kind: str = IMPORT_LIMIT) -> Constraint:
    return Constraint(kind, start, end, kw, 0, event_id)


def test_a_breach_is_charged_to_each_event_whose_limit_it_exceeds_merged_and_cut_to_the_event():
    constraints = [
        limit("tight", T0 + timedelta(minutes=5), T0 + 3 * Q, 2.0),  # starts mid-slot
        limit("loose", T0, T0 + 4 * Q, 6.0),
        limit("export", T0, T0 + 4 * Q, 0.0, EXPORT_LIMIT),  # not an import limit: never charged
    ]
    breaches = [(T0, 3.0), (T0 + Q, 3.0), (T0 + 3 * Q, 7.0)]
    assert breached_windows(breaches, constraints) == {
        "tight": ((T0 + timedelta(minutes=5), 2 * Q - timedelta(minutes=5)),),
        "loose": ((T0 + 3 * Q, Q),),
    }


def test_separate_breaches_give_separate_windows_and_none_give_nothing():
    constraints = [limit("e", T0, T0 + 4 * Q, 1.0)]
    assert breached_windows([(T0, 2.0), (T0 + 2 * Q, 2.0)], constraints) == {"e": ((T0, Q), (T0 + 2 * Q, Q))}
    assert breached_windows([], constraints) == {}
    assert breached_windows([(T0 + 5 * Q, 2.0)], constraints) == {}  # outside every event's limit


def test_a_floor_is_missed_below_it_and_a_preparation_window_is_never_the_events():
    constraints = [
        limit("more", T0, T0 + 2 * Q, 5.0, IMPORT_FLOOR),
        limit("less", T0 + 2 * Q, T0 + 3 * Q, 1.0, IMPORT_CEILING),
        limit("less", T0, T0 + 2 * Q, 0.5, PREPARATION_CEILING),
    ]
    site_kw = [(T0, 4.0), (T0 + Q, 5.0), (T0 + 2 * Q, 1.005)]  # within the solver's tolerance at 1.005 kW
    assert breached_windows(site_kw, constraints) == {"more": ((T0, Q),)}


def test_union_merges_overlapping_and_touching_windows_in_time_order():
    assert union(((T0 + 2 * Q, Q),), ((T0, Q), (T0 + Q, Q // 2))) == ((T0, Q + Q // 2), (T0 + 2 * Q, Q))
    assert union(((T0, 2 * Q),), ((T0 + Q, 2 * Q),)) == ((T0, 3 * Q),)
    assert union() == ()


def test_before_keeps_what_has_begun_cut_at_now():
    now = T0 + Q + timedelta(minutes=5)
    assert before(((T0, Q), (T0 + Q, Q), (T0 + 2 * Q, Q)), now) == ((T0, Q), (T0 + Q, timedelta(minutes=5)))
