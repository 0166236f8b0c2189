"""End-to-end telemetry lag: from an MQTT publish to the value being in the VTN's report store.

    .venv/bin/python bench/telemetry_lag_bench.py [--sites 40] [--seconds 30] [--report-back 1]

A VTN (SQLite in a temporary directory) on a free loopback port asks every VEN, at registration,
for TELEMETRY_USAGE every `--report-back` seconds at 1-second granularity; one `cariflex ven`
process hosts `--sites` sites reading their meters from the real Mosquitto on 127.0.0.1:1883. Each
second every site's meter publishes a new value (a counter, so each stored value names the publish
it came from). Lag = the VTN's received_at − the publish time of that value, over the values the
VTN stored once (a value reported again in later intervals counts once, from its first arrival).
"""

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiomqtt
from aiohttp import web

from mapping.oadr.timefmt import parse_datetime
from ven.config import MqttSettings, OptPolicy, SiteConfig, VenConfig
from ven.runner import VenProcess
from vtn.app import build
from vtn.config import AutoReport, VtnConfig
from vtn.store import report_repository as reports


async def main() -> None:
    """Run VTN, VENs and publisher; print the lag percentiles."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=40)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--report-back", type=float, default=1.0, help="seconds between the VENs' reports")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cfx-lag-"))
    back = timedelta(seconds=args.report_back)
    vtn_config = VtnConfig(
        port=0,
        db_url=f"sqlite:///{work / 'vtn.db'}",
        poll_interval=timedelta(seconds=1),
        auto_reports=(AutoReport("TELEMETRY_USAGE", timedelta(seconds=1), back),),
    )
    process = build(vtn_config)
    runner = web.AppRunner(process.app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    names = [f"lag-{i:02d}" for i in range(args.sites)]
    sites = tuple(SiteConfig(n, n, asset={"kind": "battery"}, opt=OptPolicy()) for n in names)
    ven = VenProcess(
        VenConfig(
            vtn_url=f"http://127.0.0.1:{port}/OpenADR2/Simple/2.0b",
            store_path=work / "ven.db",
            default_poll_interval=timedelta(seconds=1),
            sites=sites,
            mqtt=MqttSettings(),
        )
    )
    await ven.start(spread_first_polls=False)
    sent: dict[float, float] = {}
    try:
        print(f"{args.sites} sites registering …", flush=True)
        await asyncio.sleep(5)
        counter = 0.0
        async with aiomqtt.Client("127.0.0.1", 1883) as client:
            for second in range(args.seconds):
                for name in names:
                    counter += 1
                    now = datetime.now(UTC)
                    body = f'{{"ts": "{now.isoformat()}", "value": {counter}, "unit": "kW"}}'
                    sent[counter] = time.time()
                    await client.publish(f"cariflex/{name}/meter/power", body, qos=1)
                if second % 10 == 9:
                    print(f"published {int(counter)} values", flush=True)
                await asyncio.sleep(1)
        await asyncio.sleep(args.report_back + 3)
        points = await process.ctx.store.call(reports.points, report_name="TELEMETRY_USAGE", r_id="site-power")
        first_arrival: dict[float, float] = {}
        for p in points:
            value = p["value"]
            if value in sent:
                at = parse_datetime(p["received_at"]).timestamp()
                first_arrival[value] = min(first_arrival.get(value, at), at)
        lags = sorted(first_arrival[v] - sent[v] for v in first_arrival)
        print(f"values published {len(sent)}, reached the VTN {len(lags)} ({100 * len(lags) / len(sent):.1f} %)")
        if len(lags) >= 2:
            q = statistics.quantiles(lags, n=100)
            print(
                f"MQTT publish → VTN store lag (report-back {args.report_back:g} s): "
                f"p50 {q[49]:.2f} s, p95 {q[94]:.2f} s, p99 {q[98]:.2f} s, max {lags[-1]:.2f} s"
            )
    finally:
        await ven.stop()
        await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
