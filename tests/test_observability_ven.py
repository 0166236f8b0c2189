"""A `cariflex ven` process's own operations listener ([metrics]): after poll cycles against our running
VTN, /metrics counts the polls, the event received and opted, and the reports delivered, per site."""

import uuid
from dataclasses import replace
from datetime import timedelta

import aiohttp
import pytest

from mapping.oadr import model as m
from observability.http import MetricsSettings
from tests.support.eventually import eventually
from tests.support.metrics import scrape, total, value
from tests.support.mqtt import ensure_machine_broker, payload, publish
from tests.support.tcp_proxy import TcpProxy
from tests.support.ven_harness import RecordingHooks, running_ven, ven_config
from tests.support.vtn_harness import config_for_tests, running_vtn
from ven import metrics
from ven.config import MqttSettings
from ven.telemetry_mqtt import MqttTelemetrySource
from vtn.config import AutoReport
from vtn.store import report_repository as reports

TOKEN = "ven-scrape-token-0123456789"
FAST = dict(
    poll_interval=timedelta(seconds=1), auto_reports=(AutoReport("TELEMETRY_USAGE", timedelta(seconds=1), timedelta(seconds=1)),)
)


@pytest.mark.slow  # poll cycles in real time
async def test_ven_metrics_after_poll_cycles(sqlite_url, tmp_path):
    hooks = RecordingHooks()
    async with running_vtn(config_for_tests(sqlite_url, **FAST)) as vtn:
        config = ven_config(f"{vtn.base_url}/OpenADR2/Simple/2.0b", tmp_path / "ven.db", "site-a", "site-b")
        config = replace(config, metrics=MetricsSettings(token=TOKEN, port=0))
        async with running_ven(config, hooks) as ven, aiohttp.ClientSession() as http:
            base = f"http://127.0.0.1:{ven.ops_port}"
            sites = [ven.vens["site-a"].site, ven.vens["site-b"].site]
            await eventually(lambda: all(s.registration is not None for s in sites), what="registration")
            ven_id = sites[0].ven_id
            await eventually(lambda: vtn.ctx.store.call(reports.points, ven_id=ven_id), what="telemetry at the VTN")
            event = await vtn.create_event(target=m.Target(ven_ids=(ven_id,)))
            await eventually(lambda: "event" in hooks.kinds(event.event_id), what="the event at site-a")
            await eventually(lambda: ven.tally.value(metrics.EVENT_OPTS, ("site-a", "optIn")), what="the opt decision")
            async with http.get(base + "/metrics") as refused:
                assert refused.status == 401
            samples = await scrape(http, base + "/metrics", TOKEN)
            for public in ("/healthz", "/readyz"):
                async with http.get(base + public) as answer:
                    assert answer.status == 200, public
    assert value(samples, "cariflex_ven_polls_total", site="site-a") >= 2
    assert value(samples, "cariflex_ven_polls_total", site="site-b") >= 1
    assert value(samples, "cariflex_ven_events_received_total", site="site-a", change="new") == 1
    assert value(samples, "cariflex_ven_events_received_total", site="site-b", change="new") == 0  # not targeted
    assert value(samples, "cariflex_ven_event_opts_total", site="site-a", opt="optIn") == 1
    assert value(samples, "cariflex_ven_site_registered", site="site-a") == 1
    assert value(samples, "cariflex_ven_site_registered", site="site-b") == 1
    assert total(samples, "cariflex_ven_report_sends_total", site="site-a", result="delivered") >= 1
    assert total(samples, "cariflex_ven_reports_queued_total", site="site-a", report="TELEMETRY_USAGE") >= 1
    assert total(samples, "cariflex_ven_cycle_failures_total") == 0
    assert ("cariflex_ven_reports_unsent", (("site", "site-b"),)) in samples
    # FlexMeasures and MQTT are not configured here: their families are exposed at zero
    assert samples[("cariflex_ven_mqtt_messages_received_total", ())] == 0
    assert samples[("cariflex_ven_flexmeasures_failures_total", (("kind", "apply"),))] == 0


async def test_ven_without_a_metrics_listener_opens_none(sqlite_url, tmp_path):
    async with running_vtn(config_for_tests(sqlite_url)) as vtn:
        config = ven_config(f"{vtn.base_url}/OpenADR2/Simple/2.0b", tmp_path / "ven.db", "site-a")
        async with running_ven(config) as ven:
            assert ven.ops_port is None


@pytest.mark.external  # the machine's Mosquitto
async def test_ven_metrics_count_mqtt_telemetry(sqlite_url, tmp_path):
    ensure_machine_broker()
    name = f"site-obs-{uuid.uuid4().hex[:8]}"  # a site no other test (or concurrent run) publishes to
    async with running_vtn(config_for_tests(sqlite_url)) as vtn:
        config = ven_config(f"{vtn.base_url}/OpenADR2/Simple/2.0b", tmp_path / "ven.db", name, asset={"kind": "battery"})
        config = replace(config, mqtt=MqttSettings(), metrics=MetricsSettings(public=True, port=0))
        async with running_ven(config) as ven, aiohttp.ClientSession() as http:
            source = ven.source
            assert isinstance(source, MqttTelemetrySource)
            await eventually(source.connected.is_set, what="the MQTT subscription")
            topic = f"cariflex/{name}/meter/power"
            await publish([(topic, payload(2.5)), (topic, b"not json"), (f"cariflex/{name}/pv/power", payload(1.0))])
            await eventually(lambda: source.received == 3, what="the three messages")
            samples = await scrape(http, f"http://127.0.0.1:{ven.ops_port}/metrics")
    assert value(samples, "cariflex_ven_mqtt_messages_received_total") == 3
    assert value(samples, "cariflex_ven_mqtt_messages_stored_total") == 1
    assert value(samples, "cariflex_ven_mqtt_messages_rejected_total", reason="bad_json") == 1
    assert value(samples, "cariflex_ven_mqtt_messages_rejected_total", reason="unknown_asset") == 1
    assert value(samples, "cariflex_ven_mqtt_connections_total") >= 1


async def test_ven_metrics_show_reports_waiting_while_the_vtn_is_away(sqlite_url, tmp_path):
    async with running_vtn(config_for_tests(sqlite_url, **FAST)) as vtn:
        proxy = TcpProxy(int(vtn.base_url.rsplit(":", 1)[1]))  # a real outage between the VEN and the VTN
        await proxy.start()
        config = ven_config(f"http://127.0.0.1:{proxy.port}/OpenADR2/Simple/2.0b", tmp_path / "ven.db", "site-a")
        config = replace(config, metrics=MetricsSettings(public=True, port=0))
        try:
            async with running_ven(config) as ven, aiohttp.ClientSession() as http:
                url = f"http://127.0.0.1:{ven.ops_port}/metrics"
                sends = metrics.REPORT_SENDS
                await eventually(lambda: ven.tally.value(sends, ("site-a", "delivered")), what="a report delivered")
                await proxy.cut()
                await eventually(lambda: ven.tally.value(sends, ("site-a", "failed")), what="a report kept for later")
                # a poll cycle fails on its own schedule, maybe after the report: wait for it too (loaded machines)
                failures = metrics.CYCLE_FAILURES
                await eventually(lambda: ven.tally.value(failures, ("site-a", "LinkDown")), what="a failed poll cycle")
                away = await scrape(http, url)
                assert value(away, "cariflex_ven_reports_unsent", site="site-a") >= 1
                assert value(away, "cariflex_ven_cycle_failures_total", site="site-a", error="LinkDown") >= 1
                await proxy.start()

                async def drained() -> bool:
                    return value(await scrape(http, url), "cariflex_ven_reports_unsent", site="site-a") == 0

                await eventually(drained, timeout=15, what="the kept reports delivered")
                back = await scrape(http, url)
                assert value(back, "cariflex_ven_report_sends_total", site="site-a", result="delivered") > value(
                    away, "cariflex_ven_report_sends_total", site="site-a", result="delivered"
                )
        finally:
            await proxy.cut()
