"""Site telemetry over MQTT, against the real Mosquitto on 127.0.0.1:1883 (and a private one for the
restart test): validation and counters, W → kW, staleness, reconnection, and values reaching our VTN."""

import shutil
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from mapping.oadr import report_model as r
from tests.support.eventually import eventually
from tests.support.mqtt import (
    BROKER_PORT,
    ensure_machine_broker,
    free_port,
    kill,
    payload,
    port_open,
    private_broker_conf,
    publish,
    start_broker,
)
from tests.support.ven_harness import ven_config
from tests.support.vtn_harness import config_for_tests, running_vtn
from ven.config import MqttSettings, SiteConfig
from ven.runner import VenProcess
from ven.telemetry_mqtt import MqttTelemetrySource, Rejected, parse_message
from vtn.config import AutoReport
from vtn.store import report_repository as reports

pytestmark = pytest.mark.external  # Mosquitto (the machine's, and brokers of its own)

FAST_RECONNECT = dict(min_backoff=timedelta(milliseconds=200), max_backoff=timedelta(seconds=1))


@pytest.fixture(scope="module", autouse=True)
def mosquitto() -> None:
    """The machine's broker on 1883."""
    ensure_machine_broker()


def _site(prefix: str = "site-mqtt", kind: str = "battery") -> SiteConfig:
    """A site name no other test (or concurrent run) publishes to."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    return SiteConfig(name=name, ven_name=name, asset={"kind": kind})


@asynccontextmanager
async def _running(source: MqttTelemetrySource) -> AsyncIterator[MqttTelemetrySource]:
    await source.start()
    try:
        await eventually(source.connected.is_set, what="the MQTT subscription")
        yield source
    finally:
        await source.stop()


def _source(*sites: SiteConfig, port: int = BROKER_PORT, **changes: object) -> MqttTelemetrySource:
    settings = replace(MqttSettings(port=port), **changes)  # type: ignore[arg-type]
    return MqttTelemetrySource(settings, sites, history=timedelta(hours=1))


# --- validation without a broker ------------------------------------------------------------


def test_parse_maps_topics_to_rids_and_converts_watts():
    site = _site()
    sites, now = {site.name: site}, datetime.now(UTC)
    meter = parse_message(f"cariflex/{site.name}/meter/power", payload(2.5), sites, now)
    battery = parse_message(f"cariflex/{site.name}/battery/power", payload(-1500, "W"), sites, now)
    soc = parse_message(f"cariflex/{site.name}/battery/soc", payload(55, "%"), sites, now)
    assert (meter.r_id, meter.value) == ("site-power", 2.5)
    assert (battery.r_id, battery.value) == ("asset-power", -1.5)
    assert (soc.r_id, soc.value) == ("asset-soc", 55.0)


REJECTED = [
    ("cariflex/{s}/meter", payload(1.0), "bad_topic"),
    ("cariflex/nowhere/meter/power", payload(1.0), "unknown_site"),
    ("cariflex/{s}/evse/power", payload(1.0), "unknown_asset"),
    ("cariflex/{s}/meter/voltage", payload(230, "V"), "unknown_quantity"),
    ("cariflex/{s}/meter/power", b"{not json", "bad_json"),
    ("cariflex/{s}/meter/power", b"[1, 2]", "bad_json"),
    ("cariflex/{s}/meter/power", payload(1.0, "kWh"), "bad_unit"),
    ("cariflex/{s}/meter/power", payload("1.0"), "bad_value"),
    ("cariflex/{s}/meter/power", payload(True), "bad_value"),
    ("cariflex/{s}/meter/power", b'{"ts": "2026-01-01T00:00:00Z", "value": NaN, "unit": "kW"}', "bad_value"),
    ("cariflex/{s}/meter/power", b'{"ts": "2026-01-01T00:00:00", "value": 1, "unit": "kW"}', "bad_timestamp"),
    ("cariflex/{s}/meter/power", b'{"ts": "yesterday", "value": 1, "unit": "kW"}', "bad_timestamp"),
    # built when the test runs, not when it is collected (minutes earlier in a long suite)
    ("cariflex/{s}/meter/power", lambda: payload(1.0, at=datetime.now(UTC) + timedelta(minutes=6)), "future_timestamp"),
]


# ids by reason and position: a payload with the time of collection would differ between xdist workers
@pytest.mark.parametrize("topic, payload, reason", REJECTED, ids=[f"{n}-{case[2]}" for n, case in enumerate(REJECTED)])
def test_parse_rejects_with_a_reason(topic, payload, reason):
    site = _site()
    body = payload() if callable(payload) else payload
    with pytest.raises(Rejected) as raised:
        parse_message(topic.format(s=site.name), body, {site.name: site}, datetime.now(UTC))
    assert raised.value.reason == reason


# --- through the real broker ----------------------------------------------------------------


async def test_published_values_become_readings_with_watts_as_kilowatts():
    site = _site()
    async with _running(_source(site)) as source:
        at = datetime.now(UTC).replace(microsecond=0)
        await publish(
            [
                (f"cariflex/{site.name}/meter/power", payload(3.2, at=at)),
                (f"cariflex/{site.name}/battery/power", payload(-2500, "W", at=at)),
                (f"cariflex/{site.name}/battery/soc", payload(81.5, "%", at=at)),
            ]
        )
        await eventually(lambda: source.stored == 3, what="three stored samples")
        assert source.reading(site, "site-power", at) == 3.2
        assert source.reading(site, "asset-power", at + timedelta(seconds=30)) == -2.5
        assert source.reading(site, "asset-soc", at) == 81.5
        assert source.reading(site, "site-power", at - timedelta(seconds=1)) is None  # nothing before the first sample
        assert source.status(site, at).online
        assert source.counters == {"received": 3, "stored": 3, "rejected": {}, "connections": 1}


async def test_invalid_messages_are_counted_by_reason_and_dropped():
    site = _site()
    topic = f"cariflex/{site.name}/meter/power"
    bad = [
        (f"cariflex/{site.name}/meter/power/extra", payload(1.0)),
        (f"cariflex/{site.name}/pv/power", payload(1.0)),
        (topic, b"\xff\xfe not json"),
        (topic, b""),
        (topic, payload(1.0, "MW")),
        (topic, b'{"ts": "2026-01-01T00:00:00Z", "value": NaN, "unit": "kW"}'),
        (topic, payload(None)),
        (topic, payload(1.0, at=datetime.now(UTC) + timedelta(hours=1))),
        (topic, payload(1.0, at=datetime.now(UTC) - timedelta(hours=2))),
    ]
    async with _running(_source(site)) as source:
        await publish([*bad, (topic, payload(4.0))])
        await eventually(lambda: source.received == len(bad) + 1, what="every message")
        assert source.rejected == {
            "bad_topic": 1,
            "unknown_asset": 1,
            "bad_json": 2,
            "bad_unit": 1,
            "bad_value": 2,
            "future_timestamp": 1,
            "too_old": 1,
        }
        assert source.stored == 1
        assert source.reading(site, "site-power", datetime.now(UTC)) == 4.0


async def test_a_site_this_process_does_not_host_is_refused():
    hosted, other = _site(), _site("site-elsewhere")
    # as with a too-broad subscription: messages for a site that is not ours arrive
    source = MqttTelemetrySource(MqttSettings(), (hosted,), timedelta(hours=1), subscriptions=(f"cariflex/{other.name}/#",))
    async with _running(source):
        await publish([(f"cariflex/{other.name}/meter/power", payload(1.0))])
        await eventually(lambda: source.received == 1, what="the message")
        assert source.rejected == {"unknown_site": 1}
        assert source.reading(other, "site-power", datetime.now(UTC)) is None


async def test_stale_data_is_no_reading_and_late_samples_are_put_in_order():
    site = _site()
    now = datetime.now(UTC).replace(microsecond=0)
    topic = f"cariflex/{site.name}/meter/power"
    async with _running(_source(site)) as source:
        # published out of order: the earlier one arrives last
        await publish(
            [(topic, payload(2.0, at=now - timedelta(minutes=10))), (topic, payload(1.0, at=now - timedelta(minutes=20)))]
        )
        await eventually(lambda: source.stored == 2, what="both samples")
        assert source.reading(site, "site-power", now - timedelta(minutes=15)) == 1.0
        assert source.reading(site, "site-power", now - timedelta(minutes=9)) == 2.0
        assert source.reading(site, "site-power", now) is None  # 10 min old > 5 min staleness: never invented
        assert not source.status(site, now).online


async def test_status_carries_manual_override_and_state_of_charge():
    site = _site()
    now = datetime.now(UTC).replace(microsecond=0)
    async with _running(_source(site)) as source:
        await publish([(f"cariflex/{site.name}/meter/power", payload(3.0, at=now))])
        await eventually(lambda: source.stored == 1, what="the meter")
        assert source.status(site, now) == r.ResourceStatus(online=True, manual_override=False)
        await publish(
            [
                (f"cariflex/{site.name}/battery/soc", payload(64, "%", at=now)),
                (f"cariflex/{site.name}/battery/override", payload(1, "bool", at=now)),
            ]
        )
        await eventually(lambda: source.stored == 3, what="state of charge and override")
        status = source.status(site, now)
        assert status.online and status.manual_override
        assert status.load_control == {"capacity": {"min": 0.0, "max": 100.0, "current": 64.0}}


@pytest.mark.skipif(shutil.which("mosquitto") is None, reason="needs the mosquitto binary")
async def test_reconnects_and_subscribes_again_after_a_broker_restart(tmp_path):
    port = free_port()
    conf = private_broker_conf(tmp_path, port)
    site = _site()
    topic = f"cariflex/{site.name}/meter/power"
    brokers = [start_broker(conf)]
    try:
        await eventually(lambda: port_open(port), what="the private broker")
        async with _running(_source(site, port=port, **FAST_RECONNECT)) as source:
            await publish([(topic, payload(1.0))], port)
            await eventually(lambda: source.stored == 1, what="the first sample")
            kill(brokers[-1])
            await eventually(lambda: not source.connected.is_set(), what="the source to see the broker gone")
            brokers.append(start_broker(conf))  # same port, empty broker: no session, no subscriptions
            await eventually(lambda: source.connections == 2, timeout=15, what="a new connection")
            await publish([(topic, payload(7.0))], port)
            await eventually(lambda: source.stored == 2, what="a sample after the restart")
            assert source.reading(site, "site-power", datetime.now(UTC)) == 7.0
            assert source.rejected == {}
    finally:
        for broker in brokers:
            if broker.poll() is None:
                kill(broker)


# --- end to end: MQTT → our VEN → our VTN ---------------------------------------------------


async def test_values_published_over_mqtt_reach_the_vtn_report_store(sqlite_url, tmp_path):
    vtn_config = config_for_tests(
        sqlite_url,
        poll_interval=timedelta(seconds=1),
        auto_reports=(AutoReport("TELEMETRY_USAGE", timedelta(seconds=1), timedelta(seconds=1)),),
    )
    async with running_vtn(vtn_config) as vtn:
        name = _site().name
        config = ven_config(f"{vtn.base_url}/OpenADR2/Simple/2.0b", tmp_path / "ven.db", name, asset={"kind": "battery"})
        process = VenProcess(replace(config, mqtt=MqttSettings()))  # the runner builds the MQTT source itself
        await process.start(spread_first_polls=False)
        try:
            source = process.source
            assert isinstance(source, MqttTelemetrySource)
            await eventually(source.connected.is_set, what="the MQTT subscription")
            await publish(
                [(f"cariflex/{name}/meter/power", payload(2.75)), (f"cariflex/{name}/battery/power", payload(-500, "W"))]
            )
            site = process.vens[name].site
            await eventually(lambda: site.registration is not None, what="registration")

            async def reported() -> list[dict]:
                return await vtn.ctx.store.call(reports.points, ven_id=site.ven_id)

            await eventually(lambda: _has_both(reported()), timeout=15, what="MQTT values at the VTN")
            values = {(p["r_id"], p["value"]) for p in await reported()}
            assert values == {("site-power", 2.75), ("asset-power", -0.5)}
        finally:
            await process.stop()


async def _has_both(points) -> bool:
    return {p["r_id"] for p in await points} == {"site-power", "asset-power"}
