"""The VTN's `[push]` section: how messages are pushed to VENs registered in push mode."""

from dataclasses import dataclass
from datetime import timedelta

from mapping.settings import Table


@dataclass(frozen=True)
class PushConfig:
    """Delivery to push-mode VENs (vtn/push/pusher.py)."""

    enabled: bool = True
    #: how often the pusher looks for VENs with something new (and at once after each push it finishes)
    scan_interval: timedelta = timedelta(milliseconds=500)
    #: a VEN must answer a push within this
    timeout: timedelta = timedelta(seconds=10)
    #: pushes in flight at once, over all VENs (one at a time per VEN, to keep its order)
    concurrency: int = 256
    #: back-off after a failed push: doubles from min to max, with jitter
    min_backoff: timedelta = timedelta(seconds=1)
    max_backoff: timedelta = timedelta(minutes=5)
    #: an event that requires a response is pushed again this often until the VEN answers it
    resend_unanswered: timedelta = timedelta(seconds=60)


def parse_push(table: Table) -> PushConfig:
    """`[push]`, every key optional."""
    table.reject_unknown(
        {"enabled", "scan_interval", "timeout", "concurrency", "min_backoff", "max_backoff", "resend_unanswered"}
    )
    default = PushConfig()
    return PushConfig(
        enabled=table.boolean("enabled", default.enabled),
        scan_interval=table.duration("scan_interval", "PT0.5S"),
        timeout=table.duration("timeout", "PT10S"),
        concurrency=table.integer("concurrency", default.concurrency, 1, 10_000),
        min_backoff=table.duration("min_backoff", "PT1S"),
        max_backoff=table.duration("max_backoff", "PT5M"),
        resend_unanswered=table.duration("resend_unanswered", "PT60S"),
    )
