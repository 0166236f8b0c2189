"""A `cariflex ven` process's Prometheus metrics: what the site VENs count (into the process's Tally) and
what the FlexMeasures and MQTT parts already count, read at scrape time. Documented in docs/observability.md."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from observability.tally import Spec, Tally, TallyCollector, gauge
from ven.influx_sink import DROP_REASONS, FAIL_REASONS

POLLS = "cariflex_ven_polls_total"
CYCLE_FAILURES = "cariflex_ven_cycle_failures_total"
EVENTS_RECEIVED = "cariflex_ven_events_received_total"
EVENT_OPTS = "cariflex_ven_event_opts_total"
REPORTS_QUEUED = "cariflex_ven_reports_queued_total"
REPORT_SENDS = "cariflex_ven_report_sends_total"

VEN_SPECS: tuple[Spec, ...] = (
    Spec(POLLS, "counter", "oadrPoll messages sent, by site", ("site",)),
    Spec(
        CYCLE_FAILURES,
        "counter",
        "poll cycles that failed (VTN unreachable, bad answer, registration refused)",
        ("site", "error"),
    ),
    Spec(
        EVENTS_RECEIVED,
        "counter",
        "events received from the VTN, by site and change (new, modified, cancelled)",
        ("site", "change"),
    ),
    Spec(EVENT_OPTS, "counter", "opt decisions on new or modified events, by site (optIn, optOut)", ("site", "opt")),
    Spec(REPORTS_QUEUED, "counter", "reports built and queued for the VTN, by site and report name", ("site", "report")),
    Spec(
        REPORT_SENDS,
        "counter",
        "report send attempts: delivered, refused by the VTN, failed (kept and resent later)",
        ("site", "result"),
    ),
)


@dataclass(eq=False)  # hashable by identity: the registry keys collectors
class VenParts(Collector):
    """Reads, at scrape time, the counters the FlexMeasures and MQTT parts keep and the sites' registrations.

    `parts()` returns the running process's (hooks, forwarder, FlexMeasures telemetry source, MQTT source,
    site VENs), any of them possibly None: they are created at start-up, after the registry."""

    parts: Callable[[], dict[str, Any]]

    def collect(self) -> Iterator[Metric]:
        """Called by the registry at every scrape."""
        parts = self.parts()
        vens = parts.get("vens") or {}
        registered = gauge(
            "cariflex_ven_site_registered", "1 when the site VEN holds a registration with the VTN", labels=("site",)
        )
        for name, ven in vens.items():
            registered.add_metric([name], 1 if ven.site.registration is not None else 0)
        yield registered
        unsent = gauge("cariflex_ven_reports_unsent", "reports waiting to be (re)sent to the VTN, by site", labels=("site",))
        waiting = parts["store"].unsent_counts() if parts.get("store") is not None else {}
        for name in vens:
            unsent.add_metric([name], waiting.get(name, 0))
        yield unsent
        applications = CounterMetricFamily(
            "cariflex_ven_flexmeasures_applications_total",
            "event constraints applied to FlexMeasures (sensors written, schedule triggered and read back), by result",
            labels=("site", "result"),
        )
        hooks = parts.get("hooks")
        counted = getattr(hooks, "applications", None) or {}
        for (site, result), count in list(counted.items()):
            applications.add_metric([site, result], count)
        yield applications
        failures = CounterMetricFamily(
            "cariflex_ven_flexmeasures_failures_total",
            "FlexMeasures calls that failed, by kind: apply (constraints/schedule), forward (telemetry), read (telemetry)",
            labels=("kind",),
        )
        failures.add_metric(["apply"], sum(c for (_s, result), c in counted.items() if result == "failed"))
        forwarder, source = parts.get("forwarder"), parts.get("fm_source")
        failures.add_metric(["forward"], forwarder.failures if forwarder is not None else 0)
        failures.add_metric(["read"], source.failures if source is not None else 0)
        yield failures
        errors = CounterMetricFamily(
            "cariflex_ven_flexmeasures_errors_total",
            "unexpected errors in the FlexMeasures paths (defects, logged with their traceback), by kind: apply, forward, read",
            labels=("kind",),
        )
        errors.add_metric(["apply"], sum(c for (_s, result), c in counted.items() if result == "error"))
        errors.add_metric(["forward"], forwarder.errors if forwarder is not None else 0)
        errors.add_metric(["read"], source.errors if source is not None else 0)
        yield errors
        posted = sum(forwarder.posted.values()) if forwarder is not None else 0
        yield CounterMetricFamily("cariflex_ven_flexmeasures_values_posted", "telemetry values posted to FlexMeasures", posted)
        reads = source.refreshes if source is not None else 0
        yield CounterMetricFamily("cariflex_ven_flexmeasures_read_rounds", "rounds of telemetry read from FlexMeasures", reads)
        pending = len(hooks.pending()) if hasattr(hooks, "pending") else 0
        yield gauge(
            "cariflex_ven_flexmeasures_pending_sites", "sites whose constraints wait for FlexMeasures (retrying)", pending
        )
        yield from _mqtt_families(parts.get("mqtt"))
        yield from _dispatch_families(parts.get("dispatcher"), parts.get("cem"))
        yield from _s2_families(parts.get("cem"))
        yield from _tracking_families(parts.get("tracking"))
        yield from _influx_families(parts.get("influx"))


#: what the S2 CEM counts (ven/s2/cem.py, session.py)
S2_COUNTS = (
    "sent",
    "accepted",
    "refused",
    "revoked",
    "aborted",
    "unanswered",
    "invalid",
    "rate_limited",
    "unpaired",
    "connections",
    "disconnections",
)


def _s2_families(cem: Any) -> Iterator[Metric]:
    messages = CounterMetricFamily(
        "cariflex_ven_s2_messages",
        "S2 dispatch: instructions sent, accepted, refused (ReceptionStatus not OK), revoked, aborted (REJECTED or ABORTED), "
        "unanswered; RM messages refused as invalid or dropped for the rate bound; connections refused unpaired, made, lost",
        labels=("kind",),
    )
    counted = cem.counters if cem is not None else {}
    for kind in S2_COUNTS:
        messages.add_metric([kind], counted.get(kind, 0))
    yield messages
    connected = gauge(
        "cariflex_ven_s2_connected", "1 while the device's S2 RM is connected and described", labels=("site", "device")
    )
    for key, state in list(cem.devices.items()) if cem is not None else []:
        connected.add_metric([key.site, key.kind], int(state.session is not None and state.ready))
    yield connected


def _dispatch_families(dispatcher: Any, cem: Any = None) -> Iterator[Metric]:
    messages = CounterMetricFamily(
        "cariflex_ven_dispatch_messages",
        "device schedules sent as MQTT setpoints and their answers: published, accepted, rejected, no_ack (none within "
        "the timeout), stale_ack, bad_ack",
        labels=("kind",),
    )
    counted = dispatcher.counters if dispatcher is not None else {}
    for kind in ("published", "accepted", "rejected", "no_ack", "stale_ack", "bad_ack"):
        messages.add_metric([kind], counted.get(kind, 0))
    yield messages
    following = gauge(
        "cariflex_ven_device_following",
        "1 when the device accepted the schedule in force, 0 when it rejected or ignored one (-1: not answered yet)",
        labels=("site", "device"),
    )
    for site, kind in list(dispatcher.devices) if dispatcher is not None else []:
        state = dispatcher.following(site, kind)
        following.add_metric([site, kind], -1 if state is None else int(state))
    for key in list(cem.devices) if cem is not None else []:  # the devices dispatched over S2
        state = cem.following(key.site, key.kind)
        following.add_metric([key.site, key.kind], -1 if state is None else int(state))
    yield following


def _tracking_families(ledger: Any) -> Iterator[Metric]:
    """Scheduled versus actual (ven/dispatch_tracking.py): the last completed quarter hour compared per site and
    device (`device` is the device's kind, or `site` for the site's net power at its meter)."""
    last = dict(ledger.last) if ledger is not None else {}
    labels = ("site", "device")
    families = {
        "planned": gauge(
            "cariflex_ven_dispatch_planned_kw", "kW planned for the last completed quarter hour compared", labels=labels
        ),
        "actual": gauge(
            "cariflex_ven_dispatch_actual_kw",
            "kW measured (time-weighted mean) in the last completed quarter hour compared",
            labels=labels,
        ),
        "deviation": gauge(
            "cariflex_ven_dispatch_deviation_kw", "actual - planned kW of the last completed quarter hour compared", labels=labels
        ),
        "slot": gauge(
            "cariflex_ven_dispatch_slot_start_seconds",
            "start (Unix time) of the last completed quarter hour compared, which the planned/actual gauges describe",
            labels=labels,
        ),
    }
    for (site, device), check in sorted(last.items()):
        families["planned"].add_metric([site, device], check.planned_kw)
        families["actual"].add_metric([site, device], check.actual_kw)
        families["deviation"].add_metric([site, device], check.deviation_kw)
        families["slot"].add_metric([site, device], check.slot.timestamp())
    yield from families.values()
    beyond = CounterMetricFamily(
        "cariflex_ven_dispatch_beyond_tolerance",
        "quarter hours whose actual power strayed from the plan beyond tolerance (docs/ven.md, Scheduled versus actual)",
        labels=labels,
    )
    for site, device in sorted(set(last) | set(ledger.beyond if ledger is not None else ())):
        beyond.add_metric([site, device], ledger.beyond[(site, device)])
    yield beyond
    unmeasured = CounterMetricFamily(
        "cariflex_ven_dispatch_unmeasured",
        "completed quarter hours with a plan but no telemetry to compare it with (skipped, never taken as 0)",
        labels=labels,
    )
    for (site, device), count in sorted(dict(ledger.no_telemetry if ledger is not None else {}).items()):
        unmeasured.add_metric([site, device], count)
    yield unmeasured


def _mqtt_families(mqtt: Any) -> Iterator[Metric]:
    counters = mqtt.counters if mqtt is not None else {"received": 0, "stored": 0, "rejected": {}, "connections": 0}
    yield CounterMetricFamily("cariflex_ven_mqtt_messages_received", "MQTT telemetry messages received", counters["received"])
    yield CounterMetricFamily(
        "cariflex_ven_mqtt_messages_stored", "MQTT telemetry messages accepted as samples", counters["stored"]
    )
    rejected = CounterMetricFamily(
        "cariflex_ven_mqtt_messages_rejected", "MQTT telemetry messages dropped, by reason", labels=("reason",)
    )
    for reason, count in counters["rejected"].items():
        rejected.add_metric([reason], count)
    yield rejected
    yield CounterMetricFamily("cariflex_ven_mqtt_connections", "MQTT broker connections made", counters["connections"])


def _influx_families(sink: Any) -> Iterator[Metric]:
    """The InfluxDB sink (ven/influx_sink.py), at zero when [influxdb] is off."""
    yield CounterMetricFamily(
        "cariflex_ven_influxdb_points_written", "meter readings written to InfluxDB", sink.written if sink is not None else 0
    )
    failed = CounterMetricFamily(
        "cariflex_ven_influxdb_points_failed",
        "points of InfluxDB writes that failed, by reason, at each failed attempt (all but rejected are kept and retried)",
        labels=("reason",),
    )
    for reason in FAIL_REASONS:
        failed.add_metric([reason], sink.failed[reason] if sink is not None else 0)
    yield failed
    dropped = CounterMetricFamily(
        "cariflex_ven_influxdb_points_dropped",
        "points never written: the oldest dropped from a full buffer, a batch InfluxDB refused (400), unwritable values",
        labels=("reason",),
    )
    for reason in DROP_REASONS:
        dropped.add_metric([reason], sink.dropped[reason] if sink is not None else 0)
    yield dropped
    buffered = sink.buffered if sink is not None else 0
    yield gauge("cariflex_ven_influxdb_points_buffered", "points waiting to be written to InfluxDB", buffered)


def ven_registry(tally: Tally, parts: Callable[[], dict[str, Any]]) -> CollectorRegistry:
    """A registry of its own for one VEN process (never the global default one)."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(TallyCollector(tally, VEN_SPECS))
    registry.register(VenParts(parts))
    return registry
