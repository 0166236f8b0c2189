"""A device that does not follow its schedule: the VEN judges the site's events without it — the site doing what its
forecast without control says — so an event the household keeps to anyway stays honoured and one that needs the device
is unmet over its whole window. Pure: flexmeasures-client is replaced by the stand-in of test_ven_flexmeasures_errors
(the schedule it returns is beside the point: a device that does not follow does not run it)."""

from datetime import timedelta

from mapping.flex.unmet import covers
from mapping.oadr import model as m
from mapping.oadr.vocabulary import power_kw
from tests.test_ven_flexmeasures_errors import ASSETS, NOW, SITE, Client
from ven.flexmeasures.hooks import FlexMeasuresHooks
from ven.store import KnownEvent

START = NOW + timedelta(hours=1)


def _held(signal: m.Signal) -> dict[str, KnownEvent]:
    event = m.Event("e", 0, "ctx", NOW, "far", START, timedelta(hours=1), (signal,))
    return {"e": KnownEvent(event, "optIn", None, 0.0)}


async def _unmet_without_the_device(signal: m.Signal) -> dict:
    hooks = FlexMeasuresHooks(Client(), ASSETS, lambda _site: _held(signal), lambda: NOW)  # type: ignore[arg-type]
    hooks.device_following = lambda _site: False
    outcome = await hooks.apply(SITE)
    assert outcome is not None and outcome.device_not_following
    return outcome.unmet


async def test_a_cap_above_the_household_stays_honoured_without_the_device():
    cap = m.Signal("x-IMPORT_CAPACITY_LIMIT", "setpoint", "s", (m.Interval(timedelta(hours=1), 30.0, 0),), unit=power_kw())
    assert await _unmet_without_the_device(cap) == {}


async def test_a_shed_that_needs_the_device_is_unmet_over_the_whole_event():
    # RED sheds all the flexible load: the battery's cover of the household, which an idle battery does not give
    red = m.Signal("SIMPLE", "level", "s", (m.Interval(timedelta(hours=1), 3.0, 0),))
    unmet = await _unmet_without_the_device(red)
    assert set(unmet) == {"e"} and covers(unmet["e"], START, START + timedelta(hours=1))


def test_windows_cover_a_span_only_together_and_without_a_gap():
    q = timedelta(minutes=15)
    assert covers([(START, 2 * q), (START + 2 * q, 2 * q)], START, START + 4 * q)
    assert not covers([(START, q), (START + 2 * q, 2 * q)], START, START + 4 * q)
    assert not covers([], START, START + q) and not covers([(START, q)], START, START)
