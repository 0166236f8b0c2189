"""The site opt policy: what a site answers, with which code and why. Pure."""

from datetime import UTC, datetime, timedelta

import pytest

from mapping.oadr import model as m
from mapping.oadr.codes import ResponseCode
from mapping.oadr.vocabulary import power_kw
from ven.config import OptPolicy, SiteConfig
from ven.opt_policy import decide, enrolled

T0 = datetime(2026, 11, 26, 22, tzinfo=UTC)
BATTERY = SiteConfig(
    name="b", ven_name="b", contracted_kva=36.0, base_load_kw=2.0, asset={"kind": "battery", "capacity_kwh": 100.0}
)
PV = SiteConfig(name="p", ven_name="p", contracted_kva=9.0, asset={"kind": "pv"})


def _event(name: str, kind: str, value: float, unit: m.ItemUnit | None = None, test: bool = False) -> m.Event:
    signal = m.Signal(name, kind, "s", (m.Interval(timedelta(minutes=15), value, 0),), unit=unit)
    return m.Event("e", 0, "ctx", T0, "far", T0, timedelta(minutes=15), (signal,), test_event="true" if test else "false")


@pytest.mark.parametrize(
    ("event", "policy", "site", "expected"),
    [
        (_event("SIMPLE", "level", 1), OptPolicy(), BATTERY, ("optIn", ResponseCode.OK, "OK")),
        (_event("x-LOUDNESS", "level", 1), OptPolicy(), BATTERY, ("optOut", ResponseCode.SIGNAL_NOT_SUPPORTED, "not supported")),
        (
            _event("BID_LOAD", "setpoint", 1, power_kw()),
            OptPolicy(refuse_signals=("BID_LOAD",)),
            BATTERY,
            ("optOut", ResponseCode.OK, "BID_LOAD"),
        ),
        (
            _event("SIMPLE", "level", 1, test=True),
            OptPolicy(refuse_test_events=True),
            BATTERY,
            ("optOut", ResponseCode.OK, "test events"),
        ),
        (
            _event("x-IMPORT_CAPACITY_LIMIT", "setpoint", 0.5, power_kw()),
            OptPolicy(min_import_limit_kw=1.0),
            BATTERY,
            ("optOut", ResponseCode.OK, "below"),
        ),
        (_event("CHARGE_STATE", "setpoint", 80), OptPolicy(), PV, ("optOut", ResponseCode.OK, "battery or EV")),
        (_event("CHARGE_STATE", "setpoint", 80), OptPolicy(), BATTERY, ("optIn", ResponseCode.OK, "OK")),
        (_event("SIMPLE", "level", 1), OptPolicy(programs=("ctx",)), BATTERY, ("optIn", ResponseCode.OK, "OK")),
        (_event("SIMPLE", "level", 1), OptPolicy(programs=("other",)), BATTERY, ("optOut", ResponseCode.INVALID_ID, "enrolled")),
    ],
)
def test_decisions(event, policy, site, expected):
    decision = decide(event, policy, site)
    assert (decision.opt_type, decision.code) == expected[:2]
    assert expected[2] in decision.reason


@pytest.mark.parametrize(
    ("context", "programs", "expected"),
    [
        ("http://cariflex.mq/programs/sei", (), True),
        ("http://cariflex.mq/programs/sei", ("http://cariflex.mq/programs/*",), True),
        ("http://cariflex.mq/programsX", ("http://cariflex.mq/programs/*",), False),
        ("http://cariflex.mq/programs/sei", ("http://cariflex.mq/programs/sei",), True),
        ("http://cariflex.mq/programs/sei-2", ("http://cariflex.mq/programs/sei",), False),
        ("INVALID_MARKET_CONTEXT", ("a", "http://cariflex.mq/programs/*"), False),
    ],
)
def test_enrolment_by_exact_context_or_prefix(context, programs, expected):
    assert enrolled(context, programs) is expected
