"""The VEN's InfluxDB sink: what it adds to the MQTT intake per reading, and how fast it writes to a real influxd.

    .venv/bin/python bench/influx_bench.py [--readings 100000] [--batch-sizes 100,500,5000]

1. Intake cost: `MqttTelemetrySource.handle` on valid meter readings of the 40 sites of config/sites.toml, without
   and with the sink hooked (its writer not running: only the formatting and the append are measured).
2. Write throughput: --readings points queued, then written by the sink (batch sizes as given) to an influxd of
   Debian's package started here on free loopback ports (tests/support/influxdb.py), until InfluxDB took them all;
   the count is then checked with a query.
"""

import argparse
import asyncio
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ven.config import MqttSettings, load_config
from ven.influx_config import InfluxSettings
from ven.influx_sink import InfluxSink
from ven.telemetry_mqtt import MqttTelemetrySource

REPO = Path(__file__).resolve().parent.parent


def _messages(sites: list[str], count: int, start: datetime) -> list[tuple[str, bytes]]:
    """`count` meter readings round-robin over the sites, one second apart per site."""
    messages = []
    for i in range(count):
        at = start + timedelta(seconds=i // len(sites))
        body = {"ts": at.isoformat().replace("+00:00", "Z"), "value": 1.0 + (i % 100) / 10, "unit": "kW"}
        messages.append((f"cariflex/{sites[i % len(sites)]}/meter/power", json.dumps(body).encode()))
    return messages


def intake_cost(messages: list[tuple[str, bytes]], with_sink: bool) -> float:
    """Microseconds per `handle` call."""
    sites = load_config().sites
    source = MqttTelemetrySource(MqttSettings(), sites, history=timedelta(days=30))
    if with_sink:
        sink = InfluxSink(InfluxSettings("http://127.0.0.1:1", "bench", max_buffer=len(messages) + 1))
        source.on_reading = sink.add_reading
    begin = time.perf_counter()
    for topic, body in messages:
        source.handle(topic, body)
    elapsed = time.perf_counter() - begin
    assert source.stored == len(messages)
    return elapsed / len(messages) * 1e6


async def write_throughput(directory: Path, messages: list[tuple[str, bytes]], batch_size: int) -> float:
    """Points per second the sink writes, from queued to taken by InfluxDB."""
    sys.path.insert(0, str(REPO))  # tests.support is not an installed package
    from tests.support.influxdb import running_influxd

    server = running_influxd(directory)
    try:
        database = server.new_database()
        settings = InfluxSettings(
            server.url, database, batch_size=batch_size, flush_interval=timedelta(seconds=1), max_buffer=len(messages)
        )
        sites = load_config().sites
        source = MqttTelemetrySource(MqttSettings(), sites, history=timedelta(days=30))
        sink = InfluxSink(settings)
        source.on_reading = sink.add_reading
        for topic, body in messages:
            source.handle(topic, body)
        begin = time.perf_counter()
        await sink.start()
        try:
            while sink.written < len(messages):
                assert not sink.failed, sink.failed
                await asyncio.sleep(0.01)
            elapsed = time.perf_counter() - begin
        finally:
            await sink.stop()
        [result] = server.query('SELECT count("value") FROM "cariflex_readings"', database)["results"]
        assert result["series"][0]["values"][0][1] == len(messages)
        return len(messages) / elapsed
    finally:
        server.stop()


async def main() -> None:
    """Print the intake cost and the write throughput per batch size."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readings", type=int, default=100_000)
    parser.add_argument("--batch-sizes", default="100,500,5000")
    args = parser.parse_args()
    sites = [site.name for site in load_config().sites]
    messages = _messages(sites, args.readings, datetime.now(UTC) - timedelta(days=20))
    without, with_sink = intake_cost(messages, False), intake_cost(messages, True)
    print(f"intake: {without:.1f} µs per reading without the sink, {with_sink:.1f} µs with it (+{with_sink - without:.1f})")
    for batch_size in (int(size) for size in args.batch_sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix="cariflex-influx-bench-") as directory:
            rate = await write_throughput(Path(directory), messages, batch_size)
        print(f"writes: batch_size {batch_size}: {rate:,.0f} points/s ({args.readings:,} points)")


if __name__ == "__main__":
    asyncio.run(main())
