"""What an S2 storage RM says of its own behaviour, in the flex-model (mapping/s2.py, mapping.flex.devices.flex_model):
its leakage (FRBC.LeakageBehaviour) as a drain and its usage forecast (FRBC.UsageForecast), both in soc-usage (a
negative total as soc-gain); and the CEM keeping both from a real s2-python RM over a real WebSocket
(across a new system description). tests/test_ven_s2_flexmeasures.py has a real FlexMeasures plan with them."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from mapping.flex.devices import Device, flex_model
from mapping.grid import QUARTER, slots_between
from mapping.s2 import FrbcDevice, OperationMode, leakage_kw_from_rm, soc_usage_from_rm
from tests.support.eventually import eventually
from tests.support.s2_rm import leakage_behaviour, running_rm, usage_forecast
from ven.config import S2Settings, SiteConfig
from ven.s2.cem import S2Cem

T0 = datetime(2026, 12, 7, 22, 0, tzinfo=UTC)
MODES = (OperationMode("d", -5.0, 0.0), OperationMode("c", 0.0, 5.0))
BATTERY = Device("battery", 5.0, 10.0)
TOKEN = "forecast-battery-token-0123"


def test_leakage_becomes_a_drain_at_the_rate_of_the_present_level() -> None:
    # 0.001 %/s of 10 kWh = 0.36 kW whatever is stored in that range (S2's rate is a fixed amount, not a share)
    leaky = FrbcDevice("a", MODES, fill_level=50.0, leakage=((0.0, 60.0, 0.001), (60.0, 100.0, 0.002)))
    assert leakage_kw_from_rm(leaky, 10.0) == pytest.approx(0.36)
    fuller = FrbcDevice("a", MODES, fill_level=80.0, leakage=leaky.leakage)
    assert leakage_kw_from_rm(fuller, 10.0) == pytest.approx(0.72)  # the element holding 80 %
    unknown = FrbcDevice("a", MODES, leakage=leaky.leakage)  # no level yet: the fullest element (the worst case)
    assert leakage_kw_from_rm(unknown, 10.0) == pytest.approx(0.72)
    assert leakage_kw_from_rm(FrbcDevice("a", MODES, fill_level=50.0), 10.0) == 0.0
    assert leakage_kw_from_rm(None, 10.0) == 0.0
    # it drains every slot, beside the usage forecast
    assert soc_usage_from_rm(leaky, 10.0, [T0, T0 + QUARTER]) == [(T0, pytest.approx(0.36)), (T0 + QUARTER, pytest.approx(0.36))]


def test_a_usage_forecast_becomes_kw_per_quarter_hour_weighted_by_what_it_covers() -> None:
    # 0.01 %/s of a 10 kWh storage = 3.6 kW, for the first half of the first quarter hour; then a gain of 0.005 %/s
    used = FrbcDevice(
        "a",
        MODES,
        usage=((T0, T0 + QUARTER / 2, 0.01), (T0 + QUARTER / 2, T0 + 2 * QUARTER, -0.005)),
    )
    found = soc_usage_from_rm(used, 10.0, slots_between(T0, T0 + 3 * QUARTER))
    assert found == [(T0, pytest.approx(1.8 - 0.9)), (T0 + QUARTER, pytest.approx(-1.8)), (T0 + 2 * QUARTER, 0.0)]
    in_kwh = FrbcDevice("a", MODES, fill_label="kWh", fill_max=10.0, usage=((T0, T0 + QUARTER, 0.001),))
    assert soc_usage_from_rm(in_kwh, 99.0, [T0]) == [(T0, pytest.approx(3.6))]  # kWh labels ignore the capacity
    assert soc_usage_from_rm(FrbcDevice("a", MODES, fill_label="°C", usage=used.usage), 10.0, [T0]) == []


def test_the_flex_model_carries_them_as_soc_usage_and_soc_gain() -> None:
    usage = [(T0, 1.5), (T0 + QUARTER, -0.5), (T0 + 2 * QUARTER, 0.0)]
    model = flex_model(BATTERY, 7, T0, T0 + 3 * QUARTER, 50.0, UTC, usage_kw=usage)
    assert "storage-efficiency" not in model
    assert [s["value"] for s in model["soc-usage"][0]] == ["1.5 kW", "0 kW"]
    assert [s["value"] for s in model["soc-gain"][0]] == ["0 kW", "0.5 kW", "0 kW"]
    plain = flex_model(BATTERY, 7, T0, T0 + 3 * QUARTER, 50.0, UTC)
    assert not {"storage-efficiency", "soc-usage", "soc-gain"} & set(plain)


@pytest.fixture
async def cem() -> AsyncIterator[tuple[S2Cem, str]]:
    site = SiteConfig("fc-battery", "fc-battery", asset={"kind": "battery"}, s2_token=TOKEN)
    server = S2Cem(S2Settings(port=0), (site,))
    await server.start(tick=False)
    try:
        yield server, f"ws://127.0.0.1:{server.port}/"
    finally:
        await server.stop()


async def test_the_cem_keeps_what_the_rm_says_of_its_leakage_and_usage(cem: tuple[S2Cem, str]) -> None:
    server, url = cem
    start = datetime.now(UTC)
    async with running_rm(url, TOKEN, soc=40.0) as rm:
        await rm.send(leakage_behaviour(0.0002))
        await rm.send(usage_forecast(start, 0.001, timedelta(hours=1)))
        state = server.state("fc-battery", "battery")
        assert state is not None and state.frbc is not None
        assert state.frbc.leakage == ((0.0, 100.0, 0.0002),)
        assert state.frbc.usage == ((start, start + timedelta(hours=1), 0.001),)
        await rm.frbc.activate(rm._connection)  # type: ignore[arg-type]  # the RM describes itself again
        await eventually(lambda: state.frbc is not None and state.frbc.leakage and state.frbc.usage, "kept")
        assert leakage_kw_from_rm(state.frbc, 10.0) == pytest.approx(0.0002 * 10.0 / 100 * 3600)
