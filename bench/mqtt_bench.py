"""MQTT telemetry ingest: messages per second one VEN process takes in for the 40 sites, with every
message accounted for (stored or rejected), and the publish → stored lag.

    .venv/bin/python bench/mqtt_bench.py [--messages 60000] [--rate 0] [--bad-every 50]

The publisher is a separate process (paho-mqtt) talking to the real Mosquitto on 127.0.0.1:1883;
the VEN side is `ven.telemetry_mqtt.MqttTelemetrySource` subscribed for the 40 sites of
config/sites.toml. --rate 0 publishes as fast as the broker takes it; one message in --bad-every is
invalid on purpose (a non-number), so the rejection path is measured too.
"""

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import time
from datetime import UTC, datetime, timedelta

from ven.config import MqttSettings, load_config
from ven.telemetry_mqtt import MqttTelemetrySource


def publish(sites: list[str], messages: int, rate: float, bad_every: int, port: int) -> None:
    """Child process: publish `messages` meter readings round-robin over the sites (QoS 1)."""
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.max_inflight_messages_set(1000)
    client.connect("127.0.0.1", port)
    client.loop_start()
    start = time.perf_counter()
    info = None
    for i in range(messages):
        site = sites[i % len(sites)]
        value: object = "n/a" if bad_every and i % bad_every == 0 else 1.0 + (i % 100) / 10
        body = json.dumps({"ts": datetime.now(UTC).isoformat(), "value": value, "unit": "kW", "sent": time.time()})
        info = client.publish(f"cariflex/{site}/meter/power", body, qos=1)
        if rate > 0:
            delay = start + (i + 1) / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
    if info is not None:
        info.wait_for_publish(60)  # every QoS 1 message acknowledged by the broker before leaving
    client.loop_stop()
    client.disconnect()


async def main() -> None:
    """Run the publisher against a subscribed source and print throughput and lag."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=60000)
    parser.add_argument("--rate", type=float, default=0.0, help="messages/s to publish (0: as fast as possible)")
    parser.add_argument("--bad-every", type=int, default=50, help="one invalid message in N (0: none)")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    sites = load_config().sites
    source = MqttTelemetrySource(MqttSettings(port=args.port), sites, history=timedelta(hours=1))
    lags: list[float] = []
    original = source.handle

    def timed(topic: str, payload: bytes) -> object:
        sample = original(topic, payload)
        if sample is not None:
            lags.append(time.time() - json.loads(payload)["sent"])
        return sample

    source.handle = timed  # type: ignore[method-assign]
    await source.start()
    await asyncio.wait_for(source.connected.wait(), 10)
    await asyncio.sleep(0.5)
    child = multiprocessing.Process(
        target=publish, args=([s.name for s in sites], args.messages, args.rate, args.bad_every, args.port)
    )
    started = time.perf_counter()
    child.start()
    deadline = started + args.timeout
    last, last_change = -1, started
    while source.received < args.messages and time.perf_counter() < deadline:
        await asyncio.sleep(0.2)
        if source.received != last:
            if source.received // 10000 != max(last, 0) // 10000:
                print(f"  received {source.received}/{args.messages}", flush=True)
            last, last_change = source.received, time.perf_counter()
        elif not child.is_alive() and time.perf_counter() - last_change > 5:
            break  # the publisher is done and nothing more arrives
    elapsed = (last_change if source.received < args.messages else time.perf_counter()) - started
    child.join(10)
    await source.stop()
    rejected = sum(source.rejected.values())
    print(
        f"sites {len(sites)}, messages published {args.messages}, received {source.received}, stored {source.stored}, "
        f"rejected {rejected} {dict(source.rejected)}, unaccounted {args.messages - source.stored - rejected}"
    )
    pace = args.rate or "max"
    print(f"ingest: {source.received / elapsed:,.0f} msg/s over {elapsed:.1f} s (publisher rate {pace})")
    if lags:
        q = statistics.quantiles(lags, n=100)
        print(f"publish → stored lag: p50 {q[49] * 1000:.1f} ms, p99 {q[98] * 1000:.1f} ms, max {max(lags) * 1000:.1f} ms")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    asyncio.run(main())
