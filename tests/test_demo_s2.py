"""The demo's storage devices as S2 Resource Managers (demo/s2_devices.py, demo/pairing.py): their pairing tokens in the
demo's copy of config/sites.toml, the instructions they hold, and — against the VEN's real CEM (ven/s2/cem.py) over
real WebSockets on an ephemeral port — a battery, an EV charger and a V2G car that pair with their tokens, describe
themselves as they physically are (an EV charger without its car: nothing to move) and run at what their instruction
in force asks, within their limits. Also the twin the response is measured against (demo.outcome.metered_sites)."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from demo.outcome import Asked, by_kind, metered_sites
from demo.pairing import new_tokens, paired_sites_text, token_environment, with_tokens
from demo.s2_devices import S2_KINDS, Instructions, ResourceManager, resource_managers
from demo.simulator import SimulatedSite, SiteSimulator, advance, new_site
from demo.world import MARTINIQUE, Storage, household_kw
from mapping.dispatch import new_setpoints, setpoint_topic
from mapping.grid import QUARTER, floor_slot
from tests.support.eventually import eventually
from ven.api import load_config
from ven.config import S2Settings, SiteConfig
from ven.s2.cem import S2Cem

REPO = Path(__file__).resolve().parent.parent
BATTERY = SiteConfig(
    "site-11", "site-11", base_load_kw=1.5, asset={"kind": "battery", "power_kw": 5.0, "capacity_kwh": 10.0}, s2_token="b" * 20
)
EVSE = SiteConfig(
    "site-21", "site-21", base_load_kw=1.5, asset={"kind": "evse", "power_kw": 7.0, "capacity_kwh": 50.0}, s2_token="e" * 20
)
V2G = SiteConfig(
    "site-31", "site-31", base_load_kw=1.5, asset={"kind": "v2g", "power_kw": 11.0, "capacity_kwh": 75.0}, s2_token="v" * 20
)


def test_the_demos_sites_file_pairs_every_storage_device_with_a_token_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sites = load_config(REPO / "config" / "ven.toml", REPO / "config" / "sites.toml").sites
    tokens = new_tokens(sites, S2_KINDS)
    assert len(tokens) == 30 and len(set(tokens.values())) == 30  # 10 batteries, 10 EV chargers, 10 V2G cars
    paired = tmp_path / "sites.toml"
    paired.write_text(paired_sites_text((REPO / "config" / "sites.toml").read_text(), tokens))
    assert "s2_token" in paired.read_text() and not any(token in paired.read_text() for token in tokens.values())
    for variable, token in token_environment(tokens).items():
        monkeypatch.setenv(variable, token)
    read = {site.name: site for site in load_config(REPO / "config" / "ven.toml", paired).sites}
    assert {name: site.s2_token for name, site in read.items() if site.s2_token} == tokens
    assert all(read[name].asset["kind"] == "pv" for name in read if name not in tokens)
    assert with_tokens(sites, tokens) == tuple(read[site.name] for site in sites)
    with pytest.raises(ValueError, match="site-99"):
        paired_sites_text('name = "site-01"\n', {"site-99": "x" * 20})


def test_the_instruction_in_force_is_the_latest_started_and_a_revoked_one_is_forgotten() -> None:
    charge, gone = uuid.uuid4(), uuid.uuid4()
    book = Instructions(lambda mode, factor: 10.0 * factor if mode == charge else None)
    t0 = datetime(2026, 12, 7, 22, 0, tzinfo=UTC)
    first, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    book.take(first, t0, charge, 0.5)
    book.take(second, t0 + QUARTER, charge, 0.2)
    assert book.at(t0 - timedelta(seconds=1)) is None  # before any
    assert book.at(t0 + timedelta(minutes=5)) == 5.0 and book.at(t0 + timedelta(hours=3)) == 2.0  # it holds until the next
    assert book.revoke(second) and not book.revoke(second)
    assert book.at(t0 + QUARTER) == 5.0
    book.take(third, t0 + 2 * QUARTER, gone, 1.0)  # a mode the device no longer has: it does what it would alone
    assert book.at(t0 + 2 * QUARTER) is None


def test_a_storage_loses_on_the_way_in_and_out_and_keeps_its_reserve() -> None:
    battery = Storage(capacity_kwh=10, soc_kwh=5, charge_kw=4, discharge_kw=4, default_charge_kw=0, efficiency=0.9, floor_kwh=1)
    battery.run(4.0, 1.0)
    assert battery.soc_kwh == pytest.approx(5 + 3.6)  # 4 kWh metered, 3.6 stored
    battery.run(-3.6, 1.0)
    assert battery.soc_kwh == pytest.approx(8.6 - 4.0)  # 3.6 kWh delivered took 4 from the cells
    assert battery.power_for(-4.0, 2.0) == pytest.approx(-(4.6 - 1) / 2 * 0.9)  # not below its reserve
    nearly_full = Storage(10, 9.5, 4, 4, default_charge_kw=0, efficiency=0.9)
    assert nearly_full.power_for(4.0, 1.0) == pytest.approx(0.5 / 0.9)  # what fills it, losses included


def test_the_simulator_measures_each_site_against_its_undispatched_twin() -> None:
    at = datetime(2026, 12, 7, 22, 0, tzinfo=UTC)  # 18:00 in Martinique
    battery, roof = new_site(BATTERY), new_site(SiteConfig("site-01", "site-01", asset={"kind": "pv", "peak_kw": 5.0}))
    simulator = SiteSimulator([battery, roof], 1883)
    battery.schedule = new_setpoints("site-11", at, at, [-3.0])
    for minute in range(10):
        simulator._advance_all(at + timedelta(minutes=minute), 1 / 60)
    movable = simulator.movable()
    assert movable == {"site-11": True, "site-01": False}  # a battery above its reserve can; a roof at night cannot
    found = {
        s.site: s
        for s in metered_sites(
            simulator.readings, simulator.uncontrolled, {"site-11": "battery", "site-01": "pv"}, Asked(at, at + QUARTER, movable)
        )
    }
    assert found["site-11"].response_kw == pytest.approx(3.0, abs=0.01)  # its household, less the 3 kW it gave
    assert found["site-01"].response_kw == pytest.approx(0.0, abs=1e-9)
    count, could, measured, free = by_kind(found.values())["battery"]
    assert (count, could) == (1, 1) and free - measured == pytest.approx(3.0, abs=0.01)


@pytest.fixture
async def cem() -> AsyncIterator[tuple[S2Cem, str]]:
    """The VEN's CEM for the three devices, on a free port, ticking."""
    server = S2Cem(S2Settings(port=0, lookahead=timedelta(minutes=30)), (BATTERY, EVSE, V2G))
    await server.start()
    try:
        yield server, f"ws://127.0.0.1:{server.port}/"
    finally:
        await server.stop()


async def _paired(rms: list[ResourceManager], server: S2Cem) -> bool:
    return all(rm.paired for rm in rms) and all(state.ready for state in server.devices.values())


async def test_the_demos_devices_pair_with_the_cem_and_run_at_what_it_dispatches(cem: tuple[S2Cem, str]) -> None:
    server, url = cem
    now = datetime.now(UTC)
    battery, evse, v2g = new_site(BATTERY), new_site(EVSE), new_site(V2G)
    v2g.storage = Storage(75.0, 45.0, 11.0, 11.0, default_charge_kw=11.0, efficiency=0.95, floor_kwh=30.0)
    simulator = SiteSimulator([battery, evse, v2g], 1883)
    assert setpoint_topic("site-11", "battery") not in simulator.by_topic  # S2 devices take no MQTT setpoints
    async with resource_managers([battery, evse, v2g], url) as rms:
        await eventually(lambda: _paired(rms, server), "the three RMs paired and described their devices")
        # what each RM said stands in the CEM's view of the device: the battery's reserve, the EV charger's lack of a car
        frbc = server.state("site-11", "battery").frbc  # type: ignore[union-attr]
        assert frbc is not None and frbc.fill_min == pytest.approx(10.0) and frbc.fill_level == pytest.approx(50.0)
        assert {m.high_kw for m in server.state("site-21", "evse").frbc.modes} == {0.0}  # type: ignore[union-attr]
        slot = floor_slot(now)
        await server.dispatch("site-11", "battery", slot, [-3.0, 2.0])
        await server.dispatch("site-21", "evse", slot, [5.0])
        await server.dispatch("site-31", "v2g", slot, [-20.0])
        await eventually(lambda: _holds(battery, now, -3.0) and _holds(v2g, now, -11.0), "the instructions held")
        assert battery.setpoint(slot + QUARTER) == pytest.approx(2.0)
        # at the meter: the household less what the battery gives; the V2G car within its power and above its reserve
        meter, _ = advance(battery, now, 0.25, timedelta(0))
        local = now.astimezone(MARTINIQUE)
        assert meter == pytest.approx(household_kw("site-11", 1.5, local) - 3.0, abs=1e-3)
        assert v2g.storage.power_for(v2g.setpoint(now), 10.0) == pytest.approx(-15.0 * 0.95 / 10.0)
        # no car at the EV charger: it describes nothing to move, and moves nothing whatever it is sent
        assert evse.storage is None and evse.setpoint(now) in (None, 0.0)
        # the car arrives: its RM describes it, the CEM plans it again, and the charger draws what it is asked
        evse.storage = Storage(50.0, 15.0, 7.0, 0.0, default_charge_kw=7.0)
        await eventually(lambda: _holds(evse, now, 5.0), "the EV charging as dispatched once its car came", timeout=30)
        # a new plan for the battery: the RM forgets the revoked instruction and takes its replacement
        await server.dispatch("site-11", "battery", slot, [1.0, 2.0])
        await eventually(lambda: _holds(battery, now, 1.0), "the battery's new plan")
        assert all(server.following(site, kind) for site, kind in (("site-11", "battery"), ("site-21", "evse")))
    assert all(rm.sessions == 1 and not rm.paired for rm in rms)


def _holds(site: SimulatedSite, at: datetime, kw: float) -> bool:
    held = site.setpoint(at)
    return held is not None and abs(held - kw) < 1e-3
