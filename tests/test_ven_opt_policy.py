"""The site opt policy: what a site answers, with which code and why. Pure."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from mapping.flex.constraints import PRICE, event_constraints
from mapping.oadr import model as m
from mapping.oadr.codes import ResponseCode
from mapping.oadr.vocabulary import power_kw
from mapping.settings import ConfigError
from tests.support.ven_toml import load_ven_toml
from ven.config import DEFAULT_BASE_PRICE_PER_KWH, OptPolicy, SiteConfig
from ven.flexmeasures.provision import site_defaults
from ven.opt_policy import decide, enrolled, site_facts

T0 = datetime(2026, 11, 26, 22, tzinfo=UTC)
BATTERY = SiteConfig(
    name="b",
    ven_name="b",
    contracted_kva=36.0,
    base_load_kw=2.0,
    asset={"kind": "battery", "capacity_kwh": 100.0},
)
PV = SiteConfig(name="p", ven_name="p", contracted_kva=9.0, asset={"kind": "pv", "peak_kw": 5.0})


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
        # at 18:00 in Martinique the sun has set: a PV site has nothing to shed for an evening alert
        (_event("SIMPLE", "level", 3), OptPolicy(), PV, ("optOut", ResponseCode.OK, "no flexible load")),
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


def test_limits_are_converted_by_the_one_scale_table_and_an_unknown_scale_is_refused_naming_it():
    milli = m.ItemUnit("powerReal", "RealPower", "W", "m")  # 500 000 mW = 0.5 kW, not 500 000 kW
    decision = decide(_event("x-IMPORT_CAPACITY_LIMIT", "setpoint", 500_000, milli), OptPolicy(min_import_limit_kw=1.0), BATTERY)
    assert decision.opt_type == "optOut" and "0.5 kW is below" in decision.reason
    unknown = m.ItemUnit("powerReal", "RealPower", "W", "X")
    for site in (BATTERY, None):
        decision = decide(_event("x-IMPORT_CAPACITY_LIMIT", "setpoint", 5, unknown), OptPolicy(), site)
        assert decision.opt_type == "optOut" and "siScaleCode" in decision.reason and "'X'" in decision.reason


def test_the_base_price_is_the_sites_configuration():
    assert site_facts(BATTERY).base_price_per_kwh == DEFAULT_BASE_PRICE_PER_KWH == 0.20
    dear = replace(BATTERY, opt=OptPolicy(base_price_per_kwh=0.31))
    assert site_facts(dear).base_price_per_kwh == 0.31 and site_defaults(dear)[PRICE] == 0.31
    [constraint] = event_constraints(_event("ENERGY_PRICE", "priceRelative", 0.05), site_facts(dear))
    assert constraint.value == pytest.approx(0.36)


@pytest.mark.parametrize(
    ("value", "expected"), [("0.25", None), ("-0.1", "expected a price of at least 0"), ('"cheap"', "expected a number")]
)
def test_the_base_price_key_is_checked(tmp_path, value, expected):
    toml = f'[vtn]\nvtn_id = "CARIFLEX-VTN"\n[opt]\nbase_price_per_kwh = {value}\n'
    if expected is None:
        assert all(s.opt.base_price_per_kwh == 0.25 for s in load_ven_toml(tmp_path, toml).sites)
    else:
        with pytest.raises(ConfigError, match=r"opt\.base_price_per_kwh: " + expected):
            load_ven_toml(tmp_path, toml)
