"""One `cariflex ven` process: the site VENs it hosts, their shared store, link and scheduler."""

import asyncio
import logging
import signal
import ssl
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import aiohttp
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from certs.settings import for_ven
from certs.tls import client_context, server_context
from certs.xmlsig import Signer
from mapping.dispatch import new_setpoints
from mapping.flex.devices import Device
from mapping.flex.unmet import Window
from mapping.grid import slots_between
from mapping.s2 import device_from_rm, soc_percent_from_rm, soc_targets_from_rm, soc_usage_from_rm
from observability.http import add_ops_routes
from observability.tally import Tally
from ven.agent import SiteVen, jittered_start
from ven.config import SiteConfig, VenConfig
from ven.dispatch_mqtt import MqttDispatcher
from ven.dispatch_tracking import DispatchLedger, DispatchPath
from ven.flexmeasures.hooks import FlexMeasuresHooks, ScheduleOutcome
from ven.flexmeasures.link import FlexMeasuresConnection, connect, flexmeasures_hooks
from ven.flexmeasures.telemetry import ASSET_SOC, FlexMeasuresTelemetrySource, TelemetryForwarder
from ven.hooks import ConfiguredSource, EventHooks, LoggingHooks, SaysWhatIsUnmet, SiteRoutedSource, TelemetrySource
from ven.influx_sink import InfluxSink
from ven.push_server import PushEndpoint
from ven.s2.cem import S2Cem
from ven.site import Site
from ven.store import VenStore
from ven.telemetry_mqtt import MqttTelemetrySource
from ven.transport import VtnLink

log = logging.getLogger("cariflex.ven")


@dataclass
class VenProcess:
    """Started with `start()`, ended with `stop()`; `vens` by site name."""

    config: VenConfig
    #: None: FlexMeasures hooks when [flexmeasures] is enabled, else logging hooks
    hooks: EventHooks | None = None
    #: None: MQTT telemetry when [mqtt] is enabled, else the configured base loads
    source: TelemetrySource | None = None
    vens: dict[str, SiteVen] = field(default_factory=dict)
    _tasks: list[asyncio.Task] = field(default_factory=list)
    #: one HTTP session per client certificate (mutual TLS: each VEN has its own)
    _sessions: dict[object, aiohttp.ClientSession] = field(default_factory=dict)
    _store: VenStore | None = None
    _scheduler: AsyncIOScheduler | None = None
    _mqtt: MqttTelemetrySource | None = None
    _flexmeasures: FlexMeasuresConnection | None = None
    forwarder: TelemetryForwarder | None = None
    #: the device schedules sent as MQTT setpoints (sites with MQTT telemetry and FlexMeasures)
    dispatcher: MqttDispatcher | None = None
    #: scheduled versus actual (sites scheduled with FlexMeasures): what each plan asked, against the meters
    tracking: DispatchLedger | None = None
    #: the S2 CEM the paired devices' Resource Managers connect to ([s2] enabled and FlexMeasures)
    cem: S2Cem | None = None
    #: this process's metric counts, shared by its sites (GET /metrics on the [metrics] listener)
    tally: Tally = field(default_factory=Tally)
    #: the operations listener's bound port (None: no listener)
    ops_port: int | None = None
    _fm_source: FlexMeasuresTelemetrySource | None = None
    _ops: web.AppRunner | None = None
    #: push mode: each site VEN's endpoint, by site name
    endpoints: dict[str, PushEndpoint] = field(default_factory=dict)
    #: the MQTT readings written to InfluxDB ([influxdb] enabled, with MQTT telemetry)
    influx: InfluxSink | None = None

    async def start(self, spread_first_polls: bool = True) -> None:
        """Open the store, start every site VEN (first polls spread over one poll interval)."""
        self._store = VenStore(self.config.store_path)
        if self.config.flexmeasures is not None:
            self._flexmeasures = await connect(self.config)
        if self.source is None:
            self.source = await self._default_source()
        built: FlexMeasuresHooks | None = None
        if self.hooks is None:
            if self._flexmeasures is not None:
                built = flexmeasures_hooks(self.config, self._store, self._flexmeasures, self._soc_percent)
            self.hooks = built or LoggingHooks()
        if built is not None:
            flex = self.config.flex
            tolerance = {"tolerance_kw": flex.tracking_tolerance_kw, "tolerance_share": flex.tracking_tolerance_percent / 100}
            self.tracking = DispatchLedger(self.config.sites, self.source, self.config.curtailment, **tolerance)  # type: ignore[arg-type]
            built.on_schedule = self._dispatch
            self._tasks.append(asyncio.create_task(self.tracking.run(), name="dispatch-tracking"))
        fm = self._flexmeasures
        if fm is not None and self._mqtt is not None and fm.settings.forward_every is not None:
            forwarded = list(self._mqtt.sites.values())
            self.forwarder = TelemetryForwarder(fm.client, fm.assets, self._mqtt, forwarded, self.config.curtailment)
            self._tasks.append(asyncio.create_task(self.forwarder.run(fm.settings.forward_every), name="flexmeasures-forward"))
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._scheduler.start()
        for site_config in self.config.sites:
            link = self._link_for(site_config.ven_name)
            site = Site(
                site_config,
                self.config,
                self._store,
                link,
                self._scheduler,
                self.hooks,  # type: ignore[arg-type]
                self.source,  # type: ignore[arg-type]
                tally=self.tally,
                planned_kw=self._planned_kw,
            )
            ven = SiteVen(site)
            ven.resume()
            self.vens[site_config.name] = ven
            if self.config.push is not None:
                await self._serve_push(ven, len(self.endpoints))
            delay = (
                jittered_start(self.config.default_poll_interval) if spread_first_polls and len(self.config.sites) > 1 else 0.0
            )
            self._tasks.append(asyncio.create_task(self._run_after(ven, delay), name=f"ven:{site_config.name}"))
        if isinstance(self.hooks, SaysWhatIsUnmet):
            self.hooks.on_unmet = self._unmet
        if built is not None and (self._mqtt is not None or self.config.s2 is not None):
            # a device that stops (or starts again) following: re-plan, so the VTN hears which events stand
            sites = {site.name: site for site in self.config.sites}
            if self._mqtt is not None:
                # the sites whose meters speak MQTT get their device's schedule as setpoints on the same broker
                self.dispatcher = MqttDispatcher(self._mqtt.settings, self._mqtt.sites)
                await self.dispatcher.start()
                self.dispatcher.on_change = lambda name: built.reapply(sites[name])
            if self.config.s2 is not None:
                # devices paired over S2 get their schedule as S2 instructions instead
                self.cem = S2Cem(self.config.s2, self.config.sites, self._s2_tls())
                await self.cem.start()
                self.cem.on_change = lambda name: built.reapply(sites[name])
                built.device_of = self._device_of
                built.soc_minima_of = self._soc_minima_of
                built.rm_storage_of = self._rm_storage_of
            built.device_following = self._device_following
        if built is not None:
            await built.resume(self.config.sites)  # the held events, re-applied once their VENs can say what is unmet
            replan = built.replan(self.config.sites, self.config.flex.replan_every)
            self._tasks.append(asyncio.create_task(replan, name="flexmeasures-replan"))
        log.info("%d site VENs talking to %s", len(self.vens), self.config.vtn_url)
        if self.config.metrics.port is not None:
            await self._start_ops()

    async def _start_ops(self) -> None:
        """Serve /metrics, /healthz and /readyz on the [metrics] listener."""
        from ven.metrics import ven_registry  # here: only processes with a listener build a registry

        app = web.Application()
        add_ops_routes(app, self.config.metrics, ven_registry(self.tally, self._parts), self.readiness)
        self._ops = web.AppRunner(app, access_log=None)
        await self._ops.setup()
        site = web.TCPSite(self._ops, self.config.metrics.host, self.config.metrics.port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        self.ops_port = sockets[0].getsockname()[1] if sockets else self.config.metrics.port
        log.info("operations endpoints on http://%s:%s/metrics", self.config.metrics.host, self.ops_port)

    def _parts(self) -> dict[str, object]:
        return {
            "vens": self.vens,
            "hooks": self.hooks,
            "forwarder": self.forwarder,
            "fm_source": self._fm_source,
            "mqtt": self._mqtt,
            "dispatcher": self.dispatcher,
            "tracking": self.tracking,
            "cem": self.cem,
            "store": self._store,
            "influx": self.influx,
        }

    async def readiness(self) -> list[str]:
        """Why this process is not ready: its local store does not answer, or its scheduler is stopped."""
        problems = []
        try:
            if self._store is None:
                raise RuntimeError("not opened")
            self._store.db.execute("SELECT 1").fetchone()
        except Exception as exc:  # sqlite3 errors, closed store: not ready either way
            problems.append(f"local store unreachable: {exc}")
        if self._scheduler is None or not self._scheduler.running:
            problems.append("scheduler is not running")
        return problems

    async def _serve_push(self, ven: SiteVen, index: int) -> None:
        """Start the site VEN's push endpoint (port + index, with the site's certificate) and give its address."""
        push = self.config.push
        assert push is not None
        tls = for_ven(self.config.tls, ven.site.config.ven_name) if self.config.tls else None
        endpoint = PushEndpoint(ven, tls)
        await endpoint.start(push.host, push.port + index if push.port else 0)
        ven.site.push_address = endpoint.address(push.public_host or push.host)
        self.endpoints[ven.site.name] = endpoint
        log.info("%s: push endpoint %s", ven.site.name, ven.site.push_address)

    async def _unmet(self, site: SiteConfig, unmet: dict[str, tuple[Window, ...]], why: str) -> None:
        await self.vens[site.name].opt_out_unmet(unmet, why)

    def _soc_percent(self, site: SiteConfig, at: datetime) -> float | None:
        state = self.cem.state(site.name, str(site.asset.get("kind", ""))) if self.cem is not None else None
        reported = soc_percent_from_rm(state.frbc) if state is not None else None
        if reported is not None:  # what the device's RM says, over what the meter layer last published
            return reported
        return self.source.reading(site, ASSET_SOC, at) if self.source is not None else None

    def _link_for(self, ven_name: str) -> VtnLink:
        tls = for_ven(self.config.tls, ven_name) if self.config.tls else None
        key = tls.chains if tls else None
        if key not in self._sessions:
            connector = aiohttp.TCPConnector(ssl=client_context(tls)) if tls else None
            self._sessions[key] = aiohttp.ClientSession(connector=connector)
        signer = Signer.from_files(*tls.chains[0]) if tls and self.config.xml_signatures else None
        ca_pem = tls.ca_file.read_bytes() if tls else b""
        return VtnLink(self._sessions[key], self.config.vtn_url, self.config.request_timeout.total_seconds(), signer, ca_pem)

    async def _default_source(self) -> TelemetrySource:
        """MQTT for the sites with telemetry = "mqtt" (when [mqtt] is enabled), FlexMeasures for those with
        "flexmeasures" (when [flexmeasures] is); the configured base loads for the rest."""
        config = self.config
        # kept as long as the reports and the curtailment baselines look back
        history = max(config.report_duration, config.curtailment.history)
        routed: dict[str, TelemetrySource] = {}
        mqtt_sites = [s for s in config.sites if s.telemetry == "mqtt"]
        if config.mqtt is not None and mqtt_sites:
            self._mqtt = MqttTelemetrySource(config.mqtt, mqtt_sites, history)
            if config.influxdb is not None:  # hooked before the intake starts: no reading goes unwritten
                self.influx = InfluxSink(config.influxdb)
                await self.influx.start()
                self._mqtt.on_reading = self.influx.add_reading
            await self._mqtt.start()
            routed.update({s.name: self._mqtt for s in mqtt_sites})
        fm_sites = [s for s in config.sites if s.telemetry == "flexmeasures"]
        if self._flexmeasures is not None and fm_sites:
            fm = self._flexmeasures
            from_fm = self._fm_source = FlexMeasuresTelemetrySource(fm.client, fm.assets, fm_sites, history)
            await from_fm.refresh_once()
            self._tasks.append(asyncio.create_task(from_fm.run(fm.settings.read_every), name="flexmeasures-read"))
            routed.update({s.name: from_fm for s in fm_sites})
        sources = {id(s): s for s in routed.values()}
        if len(sources) == 1 and len(routed) == len(config.sites):
            return next(iter(sources.values()))
        return SiteRoutedSource(routed, ConfiguredSource()) if routed else ConfiguredSource()

    def _s2_tls(self) -> ssl.SSLContext | None:
        """wss:// with the first site's VEN certificate when [s2] tls is set; RMs present a token, not a certificate."""
        if self.config.s2 is None or not self.config.s2.tls or self.config.tls is None or not self.config.sites:
            return None
        settings = for_ven(self.config.tls, self.config.sites[0].ven_name)
        return server_context(replace(settings, require_client_cert=False))

    def _device_of(self, site: SiteConfig) -> Device | None:
        """The site's device as its paired RM describes it (sites.toml where the RM says nothing)."""
        state = self.cem.state(site.name, str(site.asset.get("kind", ""))) if self.cem is not None else None
        device = site.device
        return device_from_rm(device, state.frbc) if device is not None and state is not None else device

    def _soc_minima_of(self, site: SiteConfig, device: Device) -> list[tuple[datetime, float]]:
        """The fill level targets the site's paired RM reported, as kWh to hold at least."""
        state = self.cem.state(site.name, device.kind) if self.cem is not None else None
        return soc_targets_from_rm(state.frbc, device.capacity_kwh) if state is not None else []

    def _rm_storage_of(self, site: SiteConfig, device: Device, start: datetime, end: datetime) -> list[tuple[datetime, float]]:
        """The usage forecast and leakage the site's paired RM reported for its storage, as kW drained by slot of
        [start, end); [] when it said neither."""
        state = self.cem.state(site.name, device.kind) if self.cem is not None else None
        if state is None or state.frbc is None:
            return []
        return soc_usage_from_rm(state.frbc, device.capacity_kwh, slots_between(start, end))

    async def _dispatch(self, site: SiteConfig, outcome: ScheduleOutcome) -> None:
        """Keep a site's new plan (scheduled versus actual) and send its device schedule to its device: S2
        instructions when its RM is paired, else MQTT setpoints when its meter speaks MQTT."""
        kind = site.asset.get("kind")
        setpoints = new_setpoints(site.name, datetime.now(UTC), outcome.start, outcome.schedule_kw)
        if self.tracking is not None:
            self.tracking.record_site(site.name, setpoints.schedule_id, setpoints.issued, outcome.start, outcome.site_kw)
        if self.cem is not None and kind and self.cem.paired(site.name, str(kind)):
            await self.cem.dispatch(site.name, str(kind), outcome.start, outcome.schedule_kw)
            if self.tracking is not None:
                self.tracking.record_device(site.name, str(kind), setpoints, DispatchPath.S2)
            return
        if self.dispatcher is None or site.name not in self.dispatcher.sites or not kind:
            return
        await self.dispatcher.dispatch(site.name, str(kind), setpoints)
        if self.tracking is not None:
            self.tracking.record_device(site.name, str(kind), setpoints, DispatchPath.MQTT)

    def _planned_kw(self, site: str, slot: datetime) -> float | None:
        return self.tracking.site_planned_kw(site, slot) if self.tracking is not None else None

    def _device_following(self, site: SiteConfig) -> bool | None:
        kind = site.asset.get("kind")
        if self.cem is not None and kind and self.cem.paired(site.name, str(kind)):
            return self.cem.following(site.name, str(kind))
        return self.dispatcher.following(site.name, str(kind)) if self.dispatcher is not None and kind else None

    @staticmethod
    async def _run_after(ven: SiteVen, delay: float) -> None:
        await asyncio.sleep(delay)
        await ven.run()

    async def stop(self) -> None:
        """Stop the push endpoints, every VEN, the scheduler, the link and the store."""
        if self._ops is not None:
            await self._ops.cleanup()
        # the endpoints first: a push being handled finishes (and its follow-up work is cancelled) while
        # its VEN, the link and the store are still there, and no new push arrives once the VENs stop
        for endpoint in self.endpoints.values():
            await endpoint.stop()
        for ven in self.vens.values():
            ven.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
        for session in self._sessions.values():
            await session.close()
        if self._store is not None:
            self._store.close()
        if self._mqtt is not None:
            await self._mqtt.stop()
        if self.influx is not None:  # after the intake: what it took last is written too
            await self.influx.stop()
        if self.dispatcher is not None:
            await self.dispatcher.stop()
        if self.cem is not None:
            await self.cem.stop()
        if self._flexmeasures is not None:
            await self._flexmeasures.client.close()


async def serve(config: VenConfig) -> None:
    """Run until SIGINT/SIGTERM."""
    process = VenProcess(config)
    await process.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"Cariflex VENs: {len(config.sites)} sites → {config.vtn_url}", flush=True)
    await stop.wait()
    await process.stop()
