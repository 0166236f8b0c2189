"""The InfluxDB sink without an InfluxDB: readings as points, a bounded buffer that drops its oldest (counted, logged)
and never blocks, back-off while nothing answers, and its /metrics families. What a real influxd does with the
writes: tests/test_ven_influxdb.py."""

import logging
import math
from datetime import UTC, datetime, timedelta

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from mapping.line_protocol import Point, format_point
from observability.tally import Tally
from tests.support.eventually import eventually
from tests.support.mqtt import free_port, payload
from ven.config import MqttSettings, SiteConfig
from ven.influx_config import InfluxSettings
from ven.influx_sink import PRECISION, InfluxSink, reading_point
from ven.metrics import ven_registry
from ven.telemetry_mqtt import MqttTelemetrySource, Sample

AT = datetime(2026, 12, 7, 18, 0, 0, 250000, tzinfo=UTC)


def _settings(**changes: object) -> InfluxSettings:
    base = dict(
        url=f"http://127.0.0.1:{free_port()}",  # nothing listens there
        database="cariflex",
        batch_size=2,
        flush_interval=timedelta(seconds=0.05),
        max_buffer=4,
        max_backoff=timedelta(seconds=0.2),
    )
    return InfluxSettings(**(base | changes))  # type: ignore[arg-type]


def _point(value: float) -> Point:
    return Point("m", {"site": "site-1"}, {"value": value}, AT)


def test_a_reading_becomes_a_point_tagged_from_its_topic_in_its_stored_unit():
    point = reading_point("cariflex_readings", "cariflex/site-07/meter/power", Sample("site-07", "site-power", AT, 2.4))
    assert point == Point(
        "cariflex_readings", {"site": "site-07", "asset": "meter", "quantity": "power", "unit": "kW"}, {"value": 2.4}, AT
    )
    assert format_point(point, PRECISION).endswith(" value=2.4 1796666400250")
    soc = reading_point("r", "cariflex/site-07/battery/soc", Sample("site-07", "asset-soc", AT, 55.0))
    assert soc.tags == {"site": "site-07", "asset": "battery", "quantity": "soc", "unit": "%"}
    override = reading_point("r", "cariflex/site-07/battery/override", Sample("site-07", "asset-override", AT, 1.0))
    assert override.tags["unit"] == "bool"


async def test_a_full_buffer_drops_its_oldest_counted_and_logged_once(caplog):
    sink = InfluxSink(_settings())
    with caplog.at_level(logging.WARNING, logger="cariflex.ven.influxdb"):
        for i in range(10):
            sink.add(_point(float(i)))  # no writer running: nothing leaves the buffer
    assert sink.buffered == 4
    assert sink.dropped == {"buffer_full": 6}
    [warning] = [r.getMessage() for r in caplog.records]  # at most one line a minute, however many are dropped
    assert warning.startswith("InfluxDB points dropped (buffer_full): the buffer holds max_buffer = 4 points")
    assert "the oldest is dropped (1 so far)" in warning


async def test_a_value_line_protocol_cannot_carry_is_dropped_not_raised(caplog):
    sink = InfluxSink(_settings())
    with caplog.at_level(logging.WARNING, logger="cariflex.ven.influxdb"):
        sink.add(_point(math.nan))
    assert sink.dropped == {"unwritable": 1} and sink.buffered == 0
    assert "field value: nan is not a finite number: the point is not written" in caplog.text


async def test_nothing_answering_means_back_off_with_the_points_kept(caplog):
    settings = _settings(max_buffer=10)
    sink = InfluxSink(settings, draw=lambda low, high: high)  # the ceiling of each wait: the doubling shows
    for i in range(3):
        sink.add(_point(float(i)))
    with caplog.at_level(logging.INFO, logger="cariflex.ven.influxdb"):
        await sink.start()
        try:
            await eventually(lambda: sink.failures_in_a_row >= 4, what="four failed attempts")
        finally:
            await sink.stop()
    retries = [r.getMessage() for r in caplog.records if "next attempt in" in r.getMessage()]
    assert retries[0].startswith(f"cannot reach InfluxDB at {settings.url} (Cannot connect to host")  # aiohttp's words
    assert retries[0].endswith("); 3 buffered, next attempt in 0.1 s")
    waits = [message.rsplit(" ", 2)[1] for message in retries[:4]]
    assert waits == ["0.1", "0.2", "0.2", "0.2"]  # flush_interval doubled per failure, capped by max_backoff
    assert all(r.levelno == logging.WARNING for r in caplog.records if "next attempt in" in r.getMessage())
    assert sink.written == 0 and sink.buffered == 3 and not sink.dropped
    assert sink.failed["unreachable"] >= 2 * 4  # each attempt counts its batch (2 points)
    assert f"InfluxDB sink stopped, 3 buffered points not written: cannot reach InfluxDB at {settings.url}" in caplog.text


def _families(parts: dict[str, object]) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = generate_latest(ven_registry(Tally(), lambda: parts)).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        if family.name.startswith("cariflex_ven_influxdb")
        for sample in family.samples
    }


async def test_metrics_show_written_failed_dropped_and_buffered():
    failed = ("unreachable", "server_error", "unauthorized", "database_not_found", "rejected")
    dropped = ("buffer_full", "rejected", "unwritable")
    assert _families({}) == {  # [influxdb] off: every family at zero
        ("cariflex_ven_influxdb_points_written_total", ()): 0,
        **{("cariflex_ven_influxdb_points_failed_total", (("reason", reason),)): 0 for reason in failed},
        **{("cariflex_ven_influxdb_points_dropped_total", (("reason", reason),)): 0 for reason in dropped},
        ("cariflex_ven_influxdb_points_buffered", ()): 0,
    }
    sink = InfluxSink(_settings())
    for i in range(6):
        sink.add(_point(float(i)))
    sink.add(_point(math.inf))
    counted = _families({"influx": sink})
    assert counted[("cariflex_ven_influxdb_points_dropped_total", (("reason", "buffer_full"),))] == 2
    assert counted[("cariflex_ven_influxdb_points_dropped_total", (("reason", "unwritable"),))] == 1
    assert counted[("cariflex_ven_influxdb_points_buffered", ())] == 4
    assert counted[("cariflex_ven_influxdb_points_written_total", ())] == 0


def test_the_intake_hands_each_stored_reading_to_the_sink_and_survives_a_failing_one(caplog):
    source = MqttTelemetrySource(MqttSettings(), [SiteConfig("site-1", "site-1", asset={"kind": "pv"})], timedelta(hours=1))
    sink = InfluxSink(_settings(max_buffer=10))
    source.on_reading = sink.add_reading
    now = datetime.now(UTC)
    source.handle("cariflex/site-1/pv/power", payload(-1500, "W", now))
    source.handle("cariflex/site-1/pv/power", b"not json")  # refused by the intake: not for the sink either
    assert sink.buffered == 1

    def broken(topic: str, sample: Sample) -> None:
        raise RuntimeError("a defect")

    source.on_reading = broken
    with caplog.at_level(logging.ERROR, logger="cariflex.ven.mqtt"):
        assert source.handle("cariflex/site-1/meter/power", payload(2.0, "kW", now)) is not None
    assert source.stored == 2
    assert "telemetry listener failed on cariflex/site-1/meter/power: the reading is stored, the intake goes on" in caplog.text
