"""Telemetry ↔ FlexMeasures on a real FlexMeasures 1.0.1 server and a real Mosquitto: MQTT readings
become 15-minute means in the site's sensors; a site whose meter feeds FlexMeasures is read back and
its achieved curtailment reaches our VTN; schedules start from the measured state of charge."""

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from mapping.curtailment import Flag, Measured
from mapping.grid import QUARTER, floor_slot
from tests.support.eventually import eventually
from tests.support.mqtt import BROKER_PORT, SetpointDevice, ensure_machine_broker, payload, publish
from tests.support.ven_harness import ven_config
from tests.support.vtn_harness import config_for_tests, running_vtn
from ven.config import FlexMeasuresSettings, MqttSettings, VenConfig
from ven.flexmeasures.link import client_for
from ven.flexmeasures.provision import provision
from ven.flexmeasures.telemetry import FlexMeasuresTelemetrySource, valued_runs
from ven.runner import VenProcess
from vtn.store import curtailment_repository as curtailed
from vtn.store import report_repository

pytestmark = pytest.mark.flexmeasures
MINUTE = timedelta(minutes=1)
BATTERY = {"kind": "battery", "capacity_kwh": 80.0, "power_kw": 20.0}


def _settings(flexmeasures, **changes: object) -> FlexMeasuresSettings:  # noqa: ANN001
    base = FlexMeasuresSettings(flexmeasures.base_url, flexmeasures.email, flexmeasures.password, timedelta(seconds=120))
    return replace(base, **changes)  # type: ignore[arg-type]


def _config(vtn_url: str, tmp_path, name: str, fm: FlexMeasuresSettings, **site: object) -> VenConfig:  # noqa: ANN001
    config = ven_config(vtn_url, tmp_path / "ven.db", name, asset=BATTERY, contracted_kva=36.0, **site)
    return replace(config, flexmeasures=fm, report_duration=timedelta(hours=3))


async def _read(fm: FlexMeasuresSettings, sensor_id: int, start: datetime, slots: int, unit: str = "kW") -> list[float | None]:
    client = client_for(fm)
    try:
        data = await client.get_sensor_data(sensor_id, start=start, duration=slots * QUARTER, unit=unit, resolution=QUARTER)
    finally:
        await client.close()
    return [float(v) if v is not None else None for v in data["values"]]


def test_only_valued_consecutive_intervals_are_posted():
    t0 = datetime(2026, 11, 26, 22, tzinfo=UTC)
    items = [
        Measured(t0 + i * QUARTER, kw, 1, 1.0, frozenset() if kw is not None else frozenset({Flag.MISSING}))
        for i, kw in enumerate([1.0, 2.0, None, 4.0])
    ]
    assert valued_runs(items) == [(t0, [1.0, 2.0]), (t0 + 3 * QUARTER, [4.0])]


async def test_mqtt_readings_reach_the_sites_flexmeasures_sensors_as_15_minute_means(sqlite_url, tmp_path, flexmeasures):
    """Meter 4 kW for 5 minutes then 10 kW for 10 (mean 8 kW), battery −6 kW, state of charge 50 % of 80 kWh."""
    ensure_machine_broker()
    name = f"fm-tel-{uuid.uuid4().hex[:8]}"
    fm = _settings(flexmeasures, forward_every=timedelta(seconds=1))
    async with running_vtn(config_for_tests(sqlite_url, poll_interval=timedelta(seconds=1))) as vtn:
        config = replace(_config(f"{vtn.base_url}/OpenADR2/Simple/2.0b", tmp_path, name, fm), mqtt=MqttSettings(port=BROKER_PORT))
        process = VenProcess(config)
        await process.start(spread_first_polls=False)
        try:
            assert process.forwarder is not None and process._mqtt is not None
            await eventually(process._mqtt.connected.is_set, what="the MQTT subscription")
            slot = floor_slot(datetime.now(UTC)) - QUARTER
            meter = [4.0] * 5 + [10.0] * 10
            await publish(
                [(f"cariflex/{name}/meter/power", payload(kw, at=slot + i * MINUTE)) for i, kw in enumerate(meter)]
                + [(f"cariflex/{name}/battery/power", payload(-6000, "W", at=slot + i * MINUTE)) for i in range(15)]
                + [(f"cariflex/{name}/battery/soc", payload(50, "%", at=slot + i * MINUTE)) for i in range(15)]
            )
            await eventually(lambda: process._mqtt.stored == 45, what="the MQTT samples")
            await eventually(lambda: process.forwarder.posted["site-power"] >= 1, timeout=30, what="the forwarded meter")
            sensors = process._flexmeasures.assets[name].sensors
            assert await _read(fm, sensors["site-power"], slot, 1) == [pytest.approx(8.0)]
            await eventually(lambda: process.forwarder.posted["state-of-charge"] >= 1, timeout=30, what="the forwarded SoC")
            assert await _read(fm, sensors["power"], slot, 1) == [pytest.approx(-6.0)]
            assert await _read(fm, sensors["state-of-charge"], slot, 1, "kWh") == [pytest.approx(40.0)]
            assert process.forwarder.failures == 0
            # the site's meter speaks MQTT, so its battery gets its schedule as setpoints on the same broker: the
            # rolling plan from now, as FlexMeasures made it, acknowledged by the device
            device = SetpointDevice(name, "battery")
            listening = asyncio.create_task(device.run())
            try:
                assert process.dispatcher is not None
                await eventually(lambda: process.dispatcher.following(name, "battery") is True, timeout=60, what="the setpoints")
            finally:
                listening.cancel()
                await asyncio.gather(listening, return_exceptions=True)
            in_force = process.dispatcher.devices[(name, "battery")].latest
            assert device.received[-1] == in_force
            assert in_force.start <= datetime.now(UTC) < in_force.end and in_force.end - in_force.start >= timedelta(hours=24)
            outcome = process.hooks.outcomes[name]  # type: ignore[union-attr]
            if outcome.start == in_force.start:  # (no re-plan at a quarter hour's turn since)
                assert list(in_force.values_kw) == [round(v, 3) for v in outcome.schedule_kw]
            # scheduled versus actual: the VEN keeps what the plan asked of the device and of the site's net power
            assert process.tracking is not None and process.tracking.books[(name, "battery")].planned(in_force.start)
            assert process.tracking.site_planned_kw(name, in_force.start) is not None
        finally:
            await process.stop()


async def test_a_device_that_rejects_its_schedule_opts_the_site_out_until_it_accepts(sqlite_url, tmp_path, flexmeasures):
    """A battery site whose meter speaks MQTT opts in to a RED alert; its device rejects the schedule it is sent:
    the site honours no event whatever its schedule says, so the VEN tells the VTN an optOut on the event
    (`on_breach` partial, no windows: the whole event). A device that accepts the schedule in force again makes
    the VEN re-plan and withdraw the optOut (the event has not begun)."""
    ensure_machine_broker()
    name = f"fm-rej-{uuid.uuid4().hex[:8]}"
    fm = _settings(flexmeasures, forward_every=None)
    async with running_vtn(config_for_tests(sqlite_url, poll_interval=timedelta(seconds=1))) as vtn:
        config = replace(_config(f"{vtn.base_url}/OpenADR2/Simple/2.0b", tmp_path, name, fm), mqtt=MqttSettings(port=BROKER_PORT))
        process = VenProcess(config)
        await process.start(spread_first_polls=False)
        refusing = asyncio.create_task(SetpointDevice(name, "battery", answer="rejected").run())
        try:
            site = process.vens[name].site
            await eventually(lambda: site.registration is not None, what="registration")
            event = await vtn.create_event(values=(3.0,) * 4, start_in=timedelta(hours=2))

            async def opts() -> list[dict]:
                return await vtn.ctx.store.call(report_repository.list_opts)

            await eventually(opts, timeout=120, what="the VEN's optOut at the VTN")
            (opt,) = await opts()
            assert (opt["opt_type"], opt["opt_id"], opt["event_id"]) == ("optOut", f"opt-unmet-{event.event_id}", event.event_id)
            assert process.dispatcher is not None and process.dispatcher.following(name, "battery") is False
            refusing.cancel()
            await asyncio.gather(refusing, return_exceptions=True)
            accepting = asyncio.create_task(SetpointDevice(name, "battery").run())
            try:

                async def withdrawn() -> bool:
                    return all(o["cancelled_at"] is not None for o in await opts())

                await eventually(withdrawn, timeout=120, what="the optOut withdrawn once the device follows again")
                assert process.dispatcher.following(name, "battery") is True
            finally:
                accepting.cancel()
                await asyncio.gather(accepting, return_exceptions=True)
        finally:
            refusing.cancel()
            await asyncio.gather(refusing, return_exceptions=True)
            await process.stop()


async def test_a_site_metered_in_flexmeasures_reports_its_curtailment_to_the_vtn(sqlite_url, tmp_path, flexmeasures):
    """FlexMeasures holds the site meter's 15-minute means: 12 kW for the hour before, 5 kW during a
    one-interval event capping import at 9 kW → baseline 12, achieved 7, requested 3."""
    name = f"fm-meter-{uuid.uuid4().hex[:8]}"
    fm = _settings(flexmeasures, forward_every=None, read_every=timedelta(seconds=2))
    vtn_config = config_for_tests(sqlite_url, poll_interval=timedelta(seconds=1), curtailment_after=timedelta(0))
    async with running_vtn(vtn_config) as vtn:
        config = _config(f"{vtn.base_url}/OpenADR2/Simple/2.0b", tmp_path, name, fm, telemetry="flexmeasures")
        t0 = floor_slot(datetime.now(UTC)) - 2 * QUARTER
        client = client_for(fm)
        try:
            assets = await provision(client, config.sites)
            await client.post_sensor_data(
                assets[name].sensors["site-power"],
                start=t0 - 4 * QUARTER,
                duration=5 * QUARTER,
                values=[12.0, 12.0, 12.0, 12.0, 5.0],
                unit="kW",
            )
        finally:
            await client.close()
        process = VenProcess(config)
        await process.start(spread_first_polls=False)
        try:
            assert isinstance(process.source, FlexMeasuresTelemetrySource)
            site = process.vens[name].site
            await eventually(lambda: site.registration is not None, what="registration")

            async def offers() -> bool:
                return site.ven_id in await vtn.ctx.store.call(curtailed.offering, [site.ven_id])

            await eventually(offers, timeout=15, what="the curtailment report registered")
            event = await vtn.create_event(
                values=(9.0,), signal=("x-IMPORT_CAPACITY_LIMIT", "setpoint"), start_in=t0 - vtn.ctx.now()
            )
            from vtn.curtailment.query import event_curtailment

            async def reported() -> bool:
                found = await vtn.ctx.store.call(event_curtailment, event.event_id)
                return bool(found.sites) and found.sites[0].intervals[0].measured_kw is not None

            await eventually(reported, timeout=30, what="the curtailment at the VTN")
            (interval,) = (await vtn.ctx.store.call(event_curtailment, event.event_id)).sites[0].intervals
            assert (interval.baseline_kw, interval.measured_kw, interval.achieved_kw, interval.requested_kw) == (
                pytest.approx(12.0),
                pytest.approx(5.0),
                pytest.approx(7.0),
                pytest.approx(3.0),
            )
            # this VTN holds no meter data of the site: the VEN's figures stand in, flagged claimed
            assert interval.quality == "claimed" and interval.ven_baseline_kw == pytest.approx(12.0)
        finally:
            await process.stop()
