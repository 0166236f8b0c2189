"""`[influxdb]` of ven.toml: the optional InfluxDB 1.x sink of the meter readings (ven/influx_sink.py), validated
at start-up with errors that name the key."""

from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

from mapping.line_protocol import escape_measurement
from mapping.refusal import Refused
from mapping.settings import ConfigError, Table

KEYS = {
    "enabled",
    "url",
    "database",
    "username",
    "password",
    "measurement",
    "batch_size",
    "flush_interval",
    "max_buffer",
    "max_backoff",
    "timeout",
}
#: the measurement the VEN writes its validated readings to (Telegraf's raw MQTT intake writes `cariflex_mqtt`)
DEFAULT_MEASUREMENT = "cariflex_readings"


@dataclass(frozen=True)
class InfluxSettings:
    """Where the readings go and how they are batched (docs/ven.md, "Telemetry to InfluxDB")."""

    #: the server's base URL, e.g. http://127.0.0.1:8086 (the sink POSTs to <url>/write)
    url: str
    database: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    measurement: str = DEFAULT_MEASUREMENT
    #: a write is sent as soon as this many points wait…
    batch_size: int = 500
    #: …or this long after the previous write, whichever comes first; also the first back-off step after a failure
    flush_interval: timedelta = timedelta(seconds=10)
    #: points kept while InfluxDB is away; past it the oldest are dropped (counted, logged)
    max_buffer: int = 50_000
    #: the longest wait between attempts while InfluxDB fails (exponential back-off with jitter)
    max_backoff: timedelta = timedelta(minutes=5)
    #: one write request's timeout
    timeout: timedelta = timedelta(seconds=10)


def _url(table: Table) -> str:
    url = table.string("url")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(f"{table.path}.url: expected the server's base URL such as http://127.0.0.1:8086, got {url!r}")
    return url.rstrip("/")


def parse_influxdb(table: Table) -> InfluxSettings | None:
    """`[influxdb] enabled = true` and its settings; None when the sink is off."""
    table.reject_unknown(KEYS)
    if not table.boolean("enabled", False):
        return None
    username = table.string("username") if table.data.get("username") else None
    if table.data.get("password") and username is None:
        raise ConfigError(f"{table.path}.password: given without username (InfluxDB takes both or neither)")
    batch_size = table.integer("batch_size", InfluxSettings.batch_size, 1, 100_000)
    settings = InfluxSettings(
        url=_url(table),
        database=table.string("database"),
        username=username,
        password=table.string("password") if username and table.data.get("password") else None,
        measurement=table.string("measurement", DEFAULT_MEASUREMENT),
        batch_size=batch_size,
        flush_interval=table.positive_duration("flush_interval", "PT10S"),
        max_buffer=table.integer("max_buffer", InfluxSettings.max_buffer, 1, 10_000_000),
        max_backoff=table.positive_duration("max_backoff", "PT5M"),
        timeout=table.positive_duration("timeout", "PT10S"),
    )
    try:
        escape_measurement(settings.measurement)
    except Refused as exc:
        raise ConfigError(f"{table.path}.measurement: {exc.reason}") from None
    if settings.max_buffer < batch_size:
        raise ConfigError(f"{table.path}.max_buffer: must be at least batch_size ({batch_size}), got {settings.max_buffer}")
    if settings.max_backoff < settings.flush_interval:
        raise ConfigError(f"{table.path}.max_backoff: shorter than flush_interval")
    return settings
