"""The VEN's InfluxDB sink against a real InfluxDB 1.x (Debian's influxd, started by tests/support/influxdb.py):
readings over MQTT read back with their tags, fields and times; influxd stopped mid-run, then back; a missing
database, refused credentials and a refused batch, each logged saying what to do; escaping as influxd parses it."""

import logging
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from mapping.line_protocol import Point
from observability.http import MetricsSettings
from tests.support.eventually import eventually
from tests.support.influxdb import ADMIN, ADMIN_PASSWORD, InfluxServer, running_influxd
from tests.support.metrics import scrape, value
from tests.support.mqtt import ensure_machine_broker, payload, publish
from tests.support.ven_harness import running_ven, ven_config
from tests.support.vtn_harness import config_for_tests, running_vtn
from ven.config import MqttSettings
from ven.influx_config import InfluxSettings
from ven.influx_sink import InfluxSink
from ven.telemetry_mqtt import MqttTelemetrySource

pytestmark = pytest.mark.external  # influxd (the worker's, and one of its own for the restart), Mosquitto

AT = datetime(2026, 12, 7, 18, 0, tzinfo=UTC)
LOGGER = "cariflex.ven.influxdb"


def _settings(server: InfluxServer, database: str, **changes: object) -> InfluxSettings:
    """Small batches and short waits, so that each test sees several writes and retries within seconds."""
    credentials = {"username": ADMIN, "password": ADMIN_PASSWORD} if server.auth else {}
    base = dict(batch_size=1, flush_interval=timedelta(seconds=0.1), max_backoff=timedelta(seconds=0.4))
    return InfluxSettings(server.url, database, **(credentials | base | changes))  # type: ignore[arg-type]


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _ceiling(low: float, high: float) -> float:
    """The back-off's draw, at the top of its range: each wait is flush_interval doubled per failure, capped."""
    return high


async def test_readings_over_mqtt_are_read_back_with_their_tags_fields_and_times(influxdb, sqlite_url, tmp_path):
    ensure_machine_broker()
    name = f"site-ifx-{uuid.uuid4().hex[:8]}"  # a site no other test (or concurrent run) publishes to
    database = influxdb.new_database()
    now = datetime.now(UTC).replace(microsecond=0)
    times = [now - timedelta(seconds=30, milliseconds=-123), now - timedelta(seconds=20, milliseconds=-456), now]
    async with running_vtn(config_for_tests(sqlite_url)) as vtn:
        config = ven_config(f"{vtn.base_url}/OpenADR2/Simple/2.0b", tmp_path / "ven.db", name, asset={"kind": "battery"})
        influx = _settings(influxdb, database, batch_size=2)  # two by size, the third by time
        config = replace(config, mqtt=MqttSettings(), influxdb=influx, metrics=MetricsSettings(public=True, port=0))
        async with running_ven(config) as ven, aiohttp.ClientSession() as http:
            assert isinstance(ven.source, MqttTelemetrySource) and ven.influx is not None
            await eventually(ven.source.connected.is_set, what="the MQTT subscription")
            await publish(
                [
                    (f"cariflex/{name}/meter/power", payload(2400, "W", times[0])),  # kept (and written) in kW
                    (f"cariflex/{name}/battery/soc", payload(55.5, "%", times[1])),
                    (f"cariflex/{name}/meter/power", b"not json"),  # refused by the intake: never written
                    (f"cariflex/{name}/battery/power", payload(-1.25, "kW", times[2])),
                ]
            )
            await eventually(lambda: ven.influx.written == 3, what="three points written")
            samples = await scrape(http, f"http://127.0.0.1:{ven.ops_port}/metrics")
    rows = influxdb.rows('SELECT * FROM "cariflex_readings"', database)
    assert [{**row, "time": _time(row["time"])} for row in rows] == [
        {"time": times[0], "site": name, "asset": "meter", "quantity": "power", "unit": "kW", "value": 2.4},
        {"time": times[1], "site": name, "asset": "battery", "quantity": "soc", "unit": "%", "value": 55.5},
        {"time": times[2], "site": name, "asset": "battery", "quantity": "power", "unit": "kW", "value": -1.25},
    ]
    assert value(samples, "cariflex_ven_influxdb_points_written_total") == 3
    assert value(samples, "cariflex_ven_influxdb_points_buffered") == 0
    assert value(samples, "cariflex_ven_influxdb_points_dropped_total", reason="buffer_full") == 0


async def test_influxd_stopped_mid_run_means_back_off_then_the_buffered_points_arrive(tmp_path, caplog):
    server = running_influxd(tmp_path / "influxdb")  # its own: this test stops it
    try:
        database = server.new_database()
        sink = InfluxSink(_settings(server, database, batch_size=5, max_buffer=8), draw=_ceiling)
        with caplog.at_level(logging.INFO, logger=LOGGER):
            await sink.start()
            try:
                sink.add(Point("m", {"site": "s"}, {"value": 0.0}, AT))
                await eventually(lambda: sink.written == 1, what="the first point written")
                server.stop()
                for i in range(1, 11):  # ten while it is away, two more than max_buffer: 1 and 2 are dropped
                    sink.add(Point("m", {"site": "s"}, {"value": float(i)}, AT + timedelta(seconds=i)))
                await eventually(lambda: sink.failures_in_a_row >= 3, what="three failed attempts")
                server.start()  # the same port and data
                await eventually(lambda: sink.written == 9, timeout=30, what="the buffered points written")
            finally:
                await sink.stop()
        rows = server.rows('SELECT "value" FROM "m"', database)
    finally:
        server.stop()
    assert [row["value"] for row in rows] == [0.0, *range(3, 11)]
    assert [_time(row["time"]) for row in rows] == [AT, *(AT + timedelta(seconds=i) for i in range(3, 11))]
    assert sink.dropped == {"buffer_full": 2} and sink.buffered == 0
    assert sink.failed["unreachable"] >= 3 * 5
    retries = [r.getMessage() for r in caplog.records if "next attempt in" in r.getMessage()]
    assert [message.rsplit(" ", 2)[1] for message in retries[:3]] == ["0.2", "0.4", "0.4"]  # doubling, capped
    assert all(f"cannot reach InfluxDB at {server.url}" in message for message in retries)
    assert "InfluxDB points dropped (buffer_full): the buffer holds max_buffer = 8 points" in caplog.text
    assert f"InfluxDB at {server.url} takes writes again after {len(retries)} failed attempts" in caplog.text


async def test_a_missing_database_is_logged_saying_what_to_do_and_the_points_wait(influxdb, caplog):
    database = f"cfx_missing_{uuid.uuid4().hex[:8]}"
    sink = InfluxSink(_settings(influxdb, database), draw=_ceiling)
    sink.add(Point("m", {}, {"value": 1.0}, AT))
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        await sink.start()
        try:
            await eventually(lambda: sink.failed["database_not_found"] >= 1, what="the write refused")
            influxdb.query(f'CREATE DATABASE "{database}"')  # the operator does what the line says
            await eventually(lambda: sink.written == 1, what="the point written once the database is there")
        finally:
            await sink.stop()
    first = caplog.records[0]
    assert first.levelno == logging.ERROR
    assert first.getMessage() == (
        f"InfluxDB at {influxdb.url} has no database '{database}' (HTTP 404: database not found: \"{database}\"): "
        f'create it (CREATE DATABASE "{database}") or correct [influxdb] database in ven.toml; 1 buffered, '
        "next attempt in 0.2 s"
    )
    assert [row["value"] for row in influxdb.rows('SELECT "value" FROM "m"', database)] == [1.0]


@pytest.mark.parametrize(
    ("credentials", "said", "who"),
    [
        ({"password": "not-the-password"}, "authorization failed", f"user '{ADMIN}'"),
        ({"username": None, "password": None}, "unable to parse authentication credentials", "none are set"),
    ],
)
async def test_refused_credentials_are_logged_saying_what_to_check(influxdb, caplog, credentials, said, who):
    database = influxdb.new_database()
    sink = InfluxSink(_settings(influxdb, database, **credentials), draw=_ceiling)
    sink.add(Point("m", {}, {"value": 1.0}, AT))
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        await sink.start()
        try:
            await eventually(lambda: sink.failed["unauthorized"] >= 2, what="two refused writes")
        finally:
            await sink.stop()
    assert sink.written == 0 and sink.buffered == 1  # kept: the operator may yet fix the user on InfluxDB's side
    first = caplog.records[0]
    assert first.levelno == logging.ERROR
    assert first.getMessage() == (
        f"InfluxDB at {influxdb.url} refused the credentials (HTTP 401: {said}): check [influxdb] username and password "
        f"in ven.toml ({who}) and that the user may write to database '{database}'; 1 buffered, next attempt in 0.2 s"
    )


async def test_a_batch_influxdb_refuses_is_dropped_and_logged_with_its_reason(influxdb, caplog):
    database = influxdb.new_database()
    sink = InfluxSink(_settings(influxdb, database))
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        await sink.start()
        try:
            sink.add(Point("m", {}, {"value": 1.0}, AT))
            await eventually(lambda: sink.written == 1, what="the float written")
            sink.add(Point("m", {}, {"value": "one"}, AT + timedelta(seconds=1)))  # a string where a float is
            await eventually(lambda: sink.dropped["rejected"] == 1, what="the conflicting point refused")
            sink.add(Point("m", {}, {"value": 2.0}, AT + timedelta(seconds=2)))
            await eventually(lambda: sink.written == 2, what="the writes going on")
        finally:
            await sink.stop()
    [refusal] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert refusal.getMessage().startswith(
        f"InfluxDB at {influxdb.url} refused a batch (1 points) as malformed (HTTP 400: partial write: field type conflict"
    )
    assert refusal.getMessage().endswith("it is dropped, as sending it again would be refused again")
    assert sink.failed["rejected"] == 1 and sink.failures_in_a_row == 0
    assert [row["value"] for row in influxdb.rows('SELECT "value" FROM "m"', database)] == [1.0, 2.0]


async def test_escaped_names_and_values_read_back_as_they_were(influxdb):
    database = influxdb.new_database()
    sink = InfluxSink(_settings(influxdb, database))
    tags = {"tag key": "v a,l=ue", "site": "site=1, north"}
    fields = {"field=key, odd": 1.5, "text": 'say "hi" \\o/ a=b, c', "count": 3, "on": True}
    await sink.start()
    try:
        sink.add(Point("odd, measurement=1", tags, fields, AT + timedelta(microseconds=123456)))
        await eventually(lambda: sink.written == 1, what="the point written")
    finally:
        await sink.stop()
    [row] = influxdb.rows('SELECT * FROM "odd, measurement=1"', database)
    assert row == {"time": "2026-12-07T18:00:00.123Z", **tags, **fields}  # precision ms: the microseconds floored


async def test_stopping_writes_what_is_buffered(influxdb):
    database = influxdb.new_database()
    sink = InfluxSink(
        _settings(influxdb, database, batch_size=2, flush_interval=timedelta(hours=1), max_backoff=timedelta(hours=1))
    )
    await sink.start()
    for i in range(3):  # a full batch wakes the writer; the third would wait for the hour
        sink.add(Point("m", {}, {"value": float(i)}, AT + timedelta(seconds=i)))
    await sink.stop()
    assert sink.written == 3 and sink.buffered == 0
    assert [row["value"] for row in influxdb.rows('SELECT "value" FROM "m"', database)] == [0.0, 1.0, 2.0]
