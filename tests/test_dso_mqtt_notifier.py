"""The OpenADR 3.1 MQTT notifier binding (issue 22, finding 13) on the machine's Mosquitto (127.0.0.1:1883):
GET /notifiers advertises the broker, the topic paths give the spec's topic names, and a real MQTT client
subscribed to them receives the notification of each program and event create/update/delete. Every test's
topics sit under a prefix of its own, so tests running side by side on the one broker never see each other's."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import aiomqtt
import pytest

from mapping.oadr.timefmt import format_datetime
from tests.support.dso import connect
from tests.support.mqtt import BROKER_PORT, ensure_machine_broker
from tests.support.vtn_harness import VtnUnderTest, config_for_tests, running_vtn
from vtn.dso.config import DsoConfig, MqttNotifierConfig
from vtn.dso.openadr3.routes import NOTIFIER_KEY


@pytest.fixture
def prefix() -> str:
    """This test's topic namespace."""
    return f"cariflex-test/{uuid.uuid4().hex}/"


@pytest.fixture
async def vtn_mqtt(db_url: str, prefix: str) -> AsyncIterator[VtnUnderTest]:
    """Our VTN publishing 3.1 notifications on the machine's broker under `prefix` (each store backend)."""
    ensure_machine_broker()
    mqtt = MqttNotifierConfig(host="127.0.0.1", port=BROKER_PORT, topic_prefix=prefix, uris=(f"mqtt://127.0.0.1:{BROKER_PORT}",))
    async with running_vtn(config_for_tests(db_url, dso=DsoConfig(mqtt=mqtt))) as running:
        publisher = running.process.app[NOTIFIER_KEY].mqtt
        await asyncio.wait_for(publisher.connected.wait(), 10)
        yield running


class Listener:
    """A real MQTT client subscribed to some topics; keeps (topic, JSON body) of what arrives."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self.client = client
        self.received: list[tuple[str, dict]] = []

    async def collect(self) -> None:
        async for message in self.client.messages:
            self.received.append((str(message.topic), json.loads(bytes(message.payload))))  # type: ignore[arg-type]

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[tuple[str, dict]]:
        async with asyncio.timeout(timeout):
            while len(self.received) < count:
                await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)  # nothing more than expected arrives
        return list(self.received)


async def listening(topics: list[str]) -> tuple[aiomqtt.Client, Listener, asyncio.Task[None]]:
    client = aiomqtt.Client("127.0.0.1", BROKER_PORT, timeout=10)
    await client.__aenter__()
    for topic in topics:
        await client.subscribe(topic, qos=1)
    listener = Listener(client)
    return client, listener, asyncio.create_task(listener.collect())


async def stop(client: aiomqtt.Client, task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await client.__aexit__(None, None, None)


def event_body(vtn: VtnUnderTest, value: float, hours: int = 1) -> dict:
    start = (vtn.ctx.now() + timedelta(hours=hours)).replace(microsecond=0)
    return {
        "programID": "test",
        "eventName": "mqtt",
        "intervalPeriod": {"start": format_datetime(start), "duration": "PT15M"},
        "intervals": [{"id": 0, "payloads": [{"type": "SIMPLE", "values": [value]}]}],
    }


async def test_notifiers_advertise_the_broker_and_the_spec_topic_names(vtn_mqtt, prefix):
    dso = await connect(vtn_mqtt, "edf-sei", "3.1.0")
    status, body = await dso.call("GET", "/notifiers")
    assert status == 200
    assert body == {
        "WEBHOOK": True,
        "MQTT": {"URIS": [f"mqtt://127.0.0.1:{BROKER_PORT}"], "serialization": "JSON", "authentication": {"method": "ANONYMOUS"}},
    }
    status, body = await dso.call("GET", "/notifiers/mqtt/topics/programs")
    assert status == 200 and body == {
        "topics": {
            "CREATE": f"{prefix}programs/create",
            "UPDATE": f"{prefix}programs/update",
            "DELETE": f"{prefix}programs/delete",
            "ALL": f"{prefix}programs/+",
        }
    }
    status, body = await dso.call("GET", "/notifiers/mqtt/topics/programs/test")
    assert status == 200 and body["topics"] == {
        "UPDATE": f"{prefix}programs/test/update",
        "DELETE": f"{prefix}programs/test/delete",
        "ALL": f"{prefix}programs/test/+",
    }  # no CREATE for one object: it exists already
    status, body = await dso.call("GET", "/notifiers/mqtt/topics/programs/test/events")
    assert status == 200 and body["topics"]["CREATE"] == f"{prefix}programs/test/events/create"
    status, body = await dso.call("GET", "/notifiers/mqtt/topics/events")
    assert status == 200 and body["topics"]["ALL"] == f"{prefix}events/+"
    for path in ("reports", "subscriptions", "vens", "vens/site-01", "resources", "vens/site-01/events"):
        status, body = await dso.call("GET", f"/notifiers/mqtt/topics/{path}")
        assert status == 404 and "not published over MQTT" in body["detail"], path
    status, body = await dso.call("GET", "/notifiers/mqtt/topics/programs/not%20an%20id")
    assert status == 400


async def test_event_create_update_delete_reach_a_subscribed_mqtt_client(vtn_mqtt, prefix):
    dso = await connect(vtn_mqtt, "edf-sei", "3.1.0")
    _, all_events = await dso.call("GET", "/notifiers/mqtt/topics/events")
    _, program_events = await dso.call("GET", "/notifiers/mqtt/topics/programs/test/events")
    client, listener, task = await listening([all_events["topics"]["ALL"], program_events["topics"]["ALL"]])
    try:
        status, created = await dso.call("POST", "/events", event_body(vtn_mqtt, 3.0))
        assert status == 201, created
        status, updated = await dso.call("PUT", f"/events/{created['id']}", event_body(vtn_mqtt, 2.0))
        assert status == 200, updated
        status, _ = await dso.call("DELETE", f"/events/{created['id']}")
        assert status == 200
        received = await listener.wait_for(6)
    finally:
        await stop(client, task)
    by_topic: dict[str, list[dict]] = {}
    for topic, body in received:
        by_topic.setdefault(topic, []).append(body)
    assert len(received) == 6
    for level, operation in (("create", "CREATE"), ("update", "UPDATE"), ("delete", "DELETE")):
        for topic in (f"{prefix}events/{level}", f"{prefix}programs/test/events/{level}"):
            (body,) = by_topic[topic]
            assert body["objectType"] == "EVENT" and body["operation"] == operation
            assert body["object"]["id"] == created["id"] and body["object"]["programID"] == "test"
    assert by_topic[f"{prefix}events/update"][0]["object"]["intervals"][0]["payloads"][0]["values"] == [2.0]
    # the order of the changes is kept on each topic
    assert [t.rsplit("/", 1)[1] for t, _ in received if t.startswith(f"{prefix}events/")] == ["create", "update", "delete"]


async def test_program_changes_are_published_and_another_prefix_sees_nothing(vtn_mqtt, prefix):
    dso = await connect(vtn_mqtt, "edf-sei", "3.1.0")
    client, listener, task = await listening([f"{prefix}programs/+", f"{prefix}programs/+/+"])
    other, stranger, other_task = await listening([f"cariflex-test/{uuid.uuid4().hex}/#"])
    try:
        status, program = await dso.call("POST", "/programs", {"programName": "mqtt-program"})
        assert status == 201, program
        status, _ = await dso.call("PUT", f"/programs/{program['id']}", {"programName": "mqtt-program-2"})
        assert status == 200
        received = await listener.wait_for(3)
    finally:
        await stop(client, task)
        await stop(other, other_task)
    # one connection, published in the order of the changes
    assert [topic for topic, _ in received] == [
        f"{prefix}programs/create",
        f"{prefix}programs/update",
        f"{prefix}programs/{program['id']}/update",
    ]
    assert received[-1][1]["object"]["programName"] == "mqtt-program-2"
    assert stranger.received == []


async def test_changes_made_while_the_broker_connection_is_down_go_out_when_it_is_back(vtn_mqtt, prefix):
    """The publisher queues while disconnected and publishes, in order, once connected again."""
    publisher = vtn_mqtt.process.app[NOTIFIER_KEY].mqtt
    dso = await connect(vtn_mqtt, "edf-sei", "3.1.0")
    client, listener, task = await listening([f"{prefix}events/+"])
    try:
        await publisher.close()  # as if the broker went away: nothing is connected
        for value in (1.0, 2.0):
            status, _ = await dso.call(
                "POST", "/events", event_body(vtn_mqtt, value, hours=int(value)) | {"eventName": f"queued {value}"}
            )
            assert status == 201
        publisher.start()
        received = await listener.wait_for(2)
    finally:
        await stop(client, task)
    assert [body["object"]["eventName"] for _, body in received] == ["queued 1.0", "queued 2.0"]


def test_mqtt_off_by_default_and_its_keys_checked():
    from mapping.settings import ConfigError, Table
    from vtn.dso.config import parse_dso

    assert parse_dso(Table({}, "dso", {})).mqtt.host is None
    parsed = parse_dso(Table({"mqtt": {"host": "broker", "topic_prefix": "oadr3"}}, "dso", {})).mqtt
    assert parsed.uris == ("mqtt://broker:1883",) and parsed.topic_prefix == "oadr3/"
    for bad in (
        {"host": "b", "topic_prefix": "a/#"},
        {"host": "b", "qos": 3},
        {"host": "b", "client_authentication": "CERTIFICATE"},
    ):
        with pytest.raises(ConfigError):
            parse_dso(Table({"mqtt": bad}, "dso", {}))


def test_topic_names_and_binding_are_the_spec_examples():
    """The JSON examples of the 3.1 Definition (copied into tests/data) are what we answer, prefix aside."""
    import re

    from mapping.openadr3.mqtt_topics import MqttBinding, binding_object, topic_names
    from tests.support.reference_data import openadr3_notifiers_excerpt

    examples = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", openadr3_notifiers_excerpt().read_text(), re.S)]
    notifiers, programs = examples
    assert binding_object(MqttBinding(("mqtts://broker.vtn.company.com",))) == notifiers["MQTT"]
    assert topic_names("", "programs", {}) == programs["topics"]
