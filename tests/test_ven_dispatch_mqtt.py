"""Device schedules as MQTT setpoints (mapping/dispatch.py, ven/dispatch_mqtt.py): the payloads, and the
dispatcher against the real Mosquitto (the machine's on 1883, and a private one for the broker that comes
late) with devices that subscribe and acknowledge as docs/ven.md says."""

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiomqtt
import pytest
from prometheus_client import generate_latest

from mapping.dispatch import (
    Ack,
    ack_topic,
    decode_ack,
    decode_setpoints,
    encode_ack,
    encode_setpoints,
    is_dispatch_topic,
    new_setpoints,
    setpoint_topic,
)
from mapping.grid import QUARTER
from mapping.refusal import Refused
from observability.tally import Tally
from tests.support.eventually import eventually
from tests.support.mqtt import (
    BROKER_PORT,
    SetpointDevice,
    ensure_machine_broker,
    free_port,
    kill,
    private_broker_conf,
    start_broker,
)
from ven.config import MqttSettings, SiteConfig
from ven.dispatch_mqtt import MqttDispatcher
from ven.metrics import ven_registry
from ven.telemetry_mqtt import MqttTelemetrySource

START = datetime(2026, 12, 7, 22, 0, tzinfo=UTC)
FAST_RECONNECT = dict(min_backoff=timedelta(milliseconds=200), max_backoff=timedelta(seconds=1))


def test_a_schedule_reads_back_as_sent_and_says_what_holds_when() -> None:
    sent = new_setpoints("site-11", START - timedelta(minutes=1), START, [-2.9, -3.14159, 0.0])
    got = decode_setpoints(encode_setpoints(sent))
    assert got == sent and got.values_kw == (-2.9, -3.142, 0.0)
    assert got.at(START + QUARTER + timedelta(minutes=3)) == -3.142
    assert got.at(START - timedelta(seconds=1)) is None and got.at(START + 3 * QUARTER) is None
    # the same plan made twice has the same id (a device may ignore the repeat); another plan another id
    assert new_setpoints("site-11", START, START, [-2.9, -3.14159, 0.0]).schedule_id == sent.schedule_id
    assert new_setpoints("site-11", START, START, [-2.9, -3.0, 0.0]).schedule_id != sent.schedule_id
    assert sent.schedule_id.startswith("site-11-20261207T2200Z-")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not json", "payload"),
        (b"[1, 2]", "payload"),
        (b'{"schedule_id": "s", "status": "maybe"}', "status"),
        (b'{"status": "accepted"}', "schedule_id"),
        (b'{"schedule_id": "  ", "status": "accepted"}', "schedule_id"),
    ],
)
def test_a_bad_acknowledgement_is_refused_naming_the_field(body: bytes, field: str) -> None:
    with pytest.raises(Refused) as refused:
        decode_ack(body)
    assert refused.value.field == field


def test_a_bad_setpoint_message_is_refused_naming_the_field() -> None:
    good = json.loads(encode_setpoints(new_setpoints("s", START, START, [1.0])))
    for field, value in (
        ("unit", "W"),
        ("resolution", "PT5M"),
        ("values", [1.0, "x"]),
        ("values", [float("nan")]),
        ("start", "soon"),
    ):
        with pytest.raises(Refused) as refused:
            decode_setpoints(json.dumps({**good, field: value}).encode())
        assert refused.value.field == field


def test_setpoints_and_acknowledgements_are_not_telemetry() -> None:
    assert is_dispatch_topic(setpoint_topic("site-11", "battery")) and is_dispatch_topic(ack_topic("site-11", "battery"))
    assert not is_dispatch_topic("cariflex/site-11/battery/power") and not is_dispatch_topic(
        "cariflex/site-11/battery/setpoint/x"
    )
    site = SiteConfig(name="site-11", ven_name="site-11", asset={"kind": "battery"})
    source = MqttTelemetrySource(MqttSettings(), [site], timedelta(hours=2))
    assert source.handle(setpoint_topic("site-11", "battery"), b"{}") is None
    assert source.handle(ack_topic("site-11", "battery"), b"{}") is None
    assert source.counters["received"] == 0 and source.counters["rejected"] == {}  # passed over, not refused


async def test_a_device_that_failed_stays_not_following_through_new_plans_until_it_accepts_one() -> None:
    sender = MqttDispatcher(MqttSettings(), ["s"])  # not started: what it would publish is kept
    changes: list[str] = []
    sender.on_change = changes.append
    first, second, third = (new_setpoints("s", datetime.now(UTC), START, [kw]) for kw in (1.0, 2.0, 3.0))
    await sender.dispatch("s", "battery", first)
    sender.handle_ack(ack_topic("s", "battery"), encode_ack(Ack(first.schedule_id, "rejected", "no")))
    assert sender.following("s", "battery") is False and changes == ["s"]
    await sender.dispatch("s", "battery", second)  # a new plan: not answered yet, but the device has failed
    assert sender.following("s", "battery") is False and changes == ["s"]
    sender.handle_ack(ack_topic("s", "battery"), encode_ack(Ack(second.schedule_id, "accepted")))
    assert sender.following("s", "battery") is True and changes == ["s", "s"]
    await sender.dispatch("s", "battery", third)  # following again: a new plan is simply not answered yet
    assert sender.following("s", "battery") is None and changes == ["s", "s"]
    # what an operator scrapes from the VEN process's /metrics
    exposed = generate_latest(ven_registry(Tally(), lambda: {"dispatcher": sender})).decode()
    assert 'cariflex_ven_dispatch_messages_total{kind="accepted"} 1.0' in exposed
    assert 'cariflex_ven_dispatch_messages_total{kind="rejected"} 1.0' in exposed
    assert 'cariflex_ven_device_following{device="battery",site="s"} -1.0' in exposed


@asynccontextmanager
async def running(*tasks: object) -> AsyncIterator[None]:
    started = [asyncio.create_task(t) for t in tasks]  # type: ignore[arg-type]
    try:
        yield
    finally:
        for task in started:
            task.cancel()
        await asyncio.gather(*started, return_exceptions=True)


@asynccontextmanager
async def dispatcher(sites: list[str], port: int = BROKER_PORT, timeout: float = 30.0) -> AsyncIterator[MqttDispatcher]:
    found = MqttDispatcher(MqttSettings(port=port, **FAST_RECONNECT), sites, ack_timeout=timedelta(seconds=timeout))  # type: ignore[arg-type]
    await found.start()
    try:
        yield found
    finally:
        await found.stop()


def _site() -> str:
    return f"site-dispatch-{uuid.uuid4().hex[:8]}"


@pytest.mark.external  # the machine's Mosquitto
async def test_the_device_gets_the_schedule_in_force_even_when_it_connects_later_and_its_answer_counts() -> None:
    ensure_machine_broker()
    site = _site()
    async with dispatcher([site]) as sender:
        await eventually(sender.connected.is_set, what="the dispatcher's connection")
        first = new_setpoints(site, datetime.now(UTC), START, [-3.0, -3.0, 0.0])
        await sender.dispatch(site, "battery", first)
        assert sender.following(site, "battery") is None  # not answered yet, not overdue either
        device = SetpointDevice(site, "battery")
        async with running(device.run()):  # subscribes after the publication: retained, it still gets it
            await eventually(lambda: sender.following(site, "battery") is True, what="the device's acceptance")
            assert device.received == [first]
            # a new plan replaces the one in force; the same plan again is not sent again
            second = new_setpoints(site, datetime.now(UTC), START, [-2.0, -2.0, 0.0])
            await sender.dispatch(site, "battery", second)
            await sender.dispatch(site, "battery", second)
            await eventually(
                lambda: len(device.received) == 2 and sender.following(site, "battery") is True, what="the second acceptance"
            )
            assert device.received == [first, second] and sender.counters["published"] == 2
        # an answer about a schedule no longer in force changes nothing
        async with aiomqtt.Client("127.0.0.1", BROKER_PORT) as stale:
            await stale.publish(ack_topic(site, "battery"), encode_ack(Ack(first.schedule_id, "rejected")), qos=1)
        await eventually(lambda: sender.counters["stale_ack"] == 1, what="the stale answer")
        assert sender.following(site, "battery") is True
        # a malformed answer is counted and dropped, the dispatcher keeps going
        async with aiomqtt.Client("127.0.0.1", BROKER_PORT) as bad:
            await bad.publish(ack_topic(site, "battery"), b'{"status": 1}', qos=1)
        await eventually(lambda: sender.counters["bad_ack"] == 1, what="the malformed answer")
        assert sender.connected.is_set()


@pytest.mark.external  # the machine's Mosquitto
async def test_a_device_that_rejects_or_stays_silent_is_not_following(caplog: pytest.LogCaptureFixture) -> None:
    ensure_machine_broker()
    rejecting, silent = _site(), _site()
    caplog.set_level(logging.WARNING, logger="cariflex.ven.dispatch")
    async with dispatcher([rejecting, silent], timeout=0.5) as sender:
        await eventually(sender.connected.is_set, what="the dispatcher's connection")
        devices = [SetpointDevice(rejecting, "evse", answer="rejected"), SetpointDevice(silent, "v2g", answer=None)]
        async with running(*(d.run() for d in devices)):
            await asyncio.sleep(0.3)  # both subscribed
            await sender.dispatch(rejecting, "evse", new_setpoints(rejecting, datetime.now(UTC), START, [0.0]))
            await sender.dispatch(silent, "v2g", new_setpoints(silent, datetime.now(UTC), START, [0.0]))
            await eventually(lambda: sender.following(rejecting, "evse") is False, what="the rejection")

            def warned_silent() -> bool:
                return any("no acknowledgement" in r.getMessage() and silent in r.getMessage() for r in caplog.records)

            await eventually(warned_silent, what="the silent device found overdue")
            assert devices[1].received and sender.following(silent, "v2g") is False and sender.counters["no_ack"] >= 1
    messages = [r.getMessage() for r in caplog.records]
    assert any("rejected schedule" in m and "beyond my power" in m for m in messages), messages


@pytest.mark.external  # a Mosquitto of its own, started after the schedule
async def test_a_schedule_made_while_the_broker_is_away_reaches_the_device_once_it_is_back(tmp_path: Path) -> None:
    port, site = free_port(), _site()
    async with dispatcher([site], port=port) as sender:
        setpoints = new_setpoints(site, datetime.now(UTC), START, [5.0, 5.0])
        await sender.dispatch(site, "battery", setpoints)  # nobody to publish to: kept
        assert sender.counters["published"] == 0
        broker = start_broker(private_broker_conf(tmp_path, port))
        try:
            device = SetpointDevice(site, "battery", port=port)
            await eventually(sender.connected.is_set, timeout=20, what="the dispatcher on the late broker")
            async with running(device.run()):
                await eventually(lambda: sender.following(site, "battery") is True, timeout=20, what="the acceptance")
            assert device.received == [setpoints]
        finally:
            kill(broker)
