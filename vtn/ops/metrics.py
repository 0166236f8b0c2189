"""The VTN's Prometheus metrics: what the request paths count (into the context's Tally) and what is read
from the live state at scrape time. Every metric is documented in docs/observability.md."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from apscheduler.schedulers.base import BaseScheduler
from prometheus_client import CollectorRegistry
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from mapping.oadr.model import EventStatus
from observability.tally import Spec, Tally, TallyCollector, gauge
from vtn.cache.live import LiveState
from vtn.domain import SEEN_FLUSH_INTERVAL

#: the last-seen write period, as the help texts say it (seconds)
FLUSH_S = SEEN_FLUSH_INTERVAL.total_seconds()

# --- counted on the request paths (names are the Tally keys) --------------------------------------------
OADR_MESSAGES = "cariflex_oadr_messages_total"
POLL_ANSWERS = "cariflex_poll_answers_total"
POLL_DEFERRALS = "cariflex_poll_queued_deferred_total"
EVENT_DELIVERIES = "cariflex_event_deliveries_total"
OPT_RESPONSES = "cariflex_opt_responses_total"
REPORTS_RECEIVED = "cariflex_reports_received_total"
REPORT_VALUES = "cariflex_report_values_total"
REPORT_REJECTIONS = "cariflex_report_rejections_total"
HTTP_REQUESTS = "cariflex_http_requests_total"
HTTP_DURATION = "cariflex_http_request_duration_seconds"
STORE_DURATION = "cariflex_store_call_duration_seconds"
#: counted by the pusher (vtn/oadr/push/pusher.py): POSTs to push-mode VENs, those after a failed one, bad answers
PUSH_ATTEMPTS = "cariflex_push_attempts_total"
PUSH_RETRIES = "cariflex_push_retries_total"
PUSH_BAD_ANSWERS = "cariflex_push_bad_answers_total"
#: read at scrape time from the lifecycle leadership (vtn/cluster/leadership.py)
LIFECYCLE_LEADER = "cariflex_lifecycle_leader"
#: read at scrape time from the change feed listener (vtn/cluster/listen.py)
CHANGE_LISTENER_UP = "cariflex_change_listener_up"

VTN_SPECS: tuple[Spec, ...] = (
    Spec(
        OADR_MESSAGES,
        "counter",
        "2.0b messages received, by service, message type and the eiResponse code of the answer",
        ("service", "message", "code"),
    ),
    Spec(POLL_ANSWERS, "counter", "oadrPoll answers by the message type sent back", ("answer",)),
    Spec(
        POLL_DEFERRALS,
        "counter",
        "polls that left a queued message for a later poll: the store's small writes were backed up (a burst)",
    ),
    Spec(EVENT_DELIVERIES, "counter", "first deliveries of an event modification to a VEN"),
    Spec(OPT_RESPONSES, "counter", "opt responses: each answer in oadrCreatedEvent, each oadrCreateOpt", ("message", "opt")),
    Spec(REPORTS_RECEIVED, "counter", "oadrReport elements accepted in oadrUpdateReport"),
    Spec(REPORT_VALUES, "counter", "report values ingested: stored, or duplicate (already stored)", ("outcome",)),
    Spec(REPORT_REJECTIONS, "counter", "oadrUpdateReport messages refused, by eiResponse code", ("code",)),
    Spec(HTTP_REQUESTS, "counter", "HTTP requests by route class and status", ("route", "status")),
    Spec(HTTP_DURATION, "histogram", "HTTP request handling time in seconds, by route class", ("route",)),
    Spec(STORE_DURATION, "histogram", "store call time in seconds (queueing on the store thread included)", ("call",)),
    Spec(PUSH_ATTEMPTS, "counter", "POSTs to push-mode VENs by result (delivered: HTTP 200; failed: retried)", ("result",)),
    Spec(PUSH_RETRIES, "counter", "POSTs to a push-mode VEN whose previous POST failed"),
    Spec(
        PUSH_BAD_ANSWERS,
        "counter",
        "push answers not taken (not OpenADR, not the answer to what was pushed, over-size, refused as if posted), "
        "and queued messages dropped (refused for good by the VEN, or impossible to encode)",
    ),
)

#: first path segment → route class (anything else that matched a route is the operator UI)
ROUTE_CLASSES = {
    "OpenADR2": "openadr2b",
    "openadr3": "openadr3",
    "dso": "dso",
    "flexready": "aggregator",
    "metrics": "ops",
    "healthz": "ops",
    "readyz": "ops",
}


def route_class(canonical: str | None) -> str:
    """The route class of a matched route's canonical path (None: no route matched)."""
    if canonical is None:
        return "unmatched"
    first = canonical.lstrip("/").split("/", 1)[0]
    return ROUTE_CLASSES.get(first, "ui")


@dataclass
class StoreView:
    """What the last scrape read from the store (shared across processes, so identical on every instance)."""

    up: bool = False
    oldest_seen_age: float | None = None
    stale_vens: int = 0


@dataclass(eq=False)  # hashable by identity: the registry keys collectors
class VtnGauges(Collector):
    """Gauges read at scrape time from the live state, the scheduler and the last store view."""

    live: LiveState
    tally: Tally
    scheduler: BaseScheduler
    view: StoreView
    #: whether this process holds the lifecycle leadership now (vtn/cluster/leadership.py)
    leads: Callable[[], bool]
    #: whether the change listener has LISTEN in place now (vtn/cluster/listen.py; always False without a listener)
    listening: Callable[[], bool] = lambda: False

    def collect(self) -> Iterator[Metric]:
        """Called by the registry at every scrape (on the event loop: the live state is not mutated meanwhile)."""
        live = self.live
        by_status: dict[str, int] = {}
        for event in list(live.events.values()):
            by_status[event.event.status] = by_status.get(event.event.status, 0) + 1
        events = gauge("cariflex_events_live", "events not yet closed, by status", labels=("status",))
        for status in (s for s in EventStatus if s is not EventStatus.NONE):
            events.add_metric([status], by_status.pop(status, 0))
        for status, count in by_status.items():
            events.add_metric([status], count)
        yield events
        vens = list(live.vens.values())
        yield gauge("cariflex_vens_registered", "VENs holding a registration", sum(1 for v in vens if v.registered))
        yield gauge("cariflex_vens_known", "VENs known to the VTN, registered or not", len(vens))
        queued = sum(len(items) for items in list(live.outbox.values()))
        yield gauge(
            "cariflex_outbox_queued",
            "VTN-initiated messages not yet delivered: waiting for the next poll of a pull VEN, or to be pushed to a push VEN",
            queued,
        )
        yield gauge("cariflex_store_up", "1 when the store answered the last scrape's query", 1 if self.view.up else 0)
        if self.view.oldest_seen_age is not None:
            yield gauge(
                "cariflex_ven_last_seen_max_age_seconds",
                f"seconds since the registered VEN heard from longest ago last polled (stored every {FLUSH_S:g} s)",
                self.view.oldest_seen_age,
            )
        yield gauge(
            "cariflex_vens_stale",
            f"registered VENs not seen for 3 poll intervals plus the {FLUSH_S:g} s last-seen write period (or never)",
            self.view.stale_vens,
        )
        yield gauge("cariflex_scheduler_running", "1 while the lifecycle scheduler runs", int(self.scheduler.running))
        yield gauge(LIFECYCLE_LEADER, "1 when this process runs the event lifecycle (leader)", int(self.leads()))
        yield gauge(
            CHANGE_LISTENER_UP,
            "1 while this process listens for the change feed's NOTIFY (0: only the periodic refresh keeps it current)",
            int(self.listening()),
        )


def vtn_registry(gauges: VtnGauges) -> CollectorRegistry:
    """A registry of its own for one VTN process (never the global default one)."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(TallyCollector(gauges.tally, VTN_SPECS))
    registry.register(gauges)
    return registry
