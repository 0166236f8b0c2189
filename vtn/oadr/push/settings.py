"""The VTN's `[push]` section: how messages are pushed to VENs registered in push mode."""

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from certs.settings import parse_tls
from certs.tls import TlsSettings
from mapping.settings import ConfigError, Table


@dataclass(frozen=True)
class PushConfig:
    """Delivery to push-mode VENs (vtn/oadr/push/pusher.py)."""

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
    #: `[push.tls]`: the client certificate pushes are made with; None: the VTN's `[tls]` (needed when nginx
    #: terminates TLS for the VTN processes, which then have no `[tls]` of their own)
    tls: TlsSettings | None = None


def parse_push(table: Table, base_dir: Path) -> PushConfig:
    """`[push]`, every key optional (the defaults are PushConfig's). Every duration must be above zero: a zero
    scan interval or back-off is a busy loop, and a zero timeout means no timeout at all to aiohttp.
    `[push.tls]` (cert, key, ca; paths relative to `base_dir`) is the client certificate pushes are made with."""
    table.reject_unknown(
        {"enabled", "scan_interval", "timeout", "concurrency", "min_backoff", "max_backoff", "resend_unanswered", "tls"}
    )
    default = PushConfig()
    config = PushConfig(
        enabled=table.boolean("enabled", default.enabled),
        scan_interval=table.positive_duration("scan_interval", default.scan_interval),
        timeout=table.positive_duration("timeout", default.timeout),
        concurrency=table.integer("concurrency", default.concurrency, 1, 10_000),
        min_backoff=table.positive_duration("min_backoff", default.min_backoff),
        max_backoff=table.positive_duration("max_backoff", default.max_backoff),
        resend_unanswered=table.positive_duration("resend_unanswered", default.resend_unanswered),
        tls=parse_tls(table.table("tls"), base_dir, "client"),
    )
    if config.min_backoff > config.max_backoff:
        raise ConfigError(
            f"{table.path}.min_backoff: must not exceed max_backoff "
            f"({config.min_backoff.total_seconds():g} s > {config.max_backoff.total_seconds():g} s)"
        )
    return config
