"""The `[dso]` section of the VTN configuration: the upstream (grid-operator) API."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mapping.dso.common import AdapterSettings
from mapping.dso.tempo import COLOURS
from mapping.openadr3.payloads import CAPACITY_SIGNALS, CURRENCIES
from mapping.settings import ConfigError, Table

#: the French adapters, POST /dso/signals/<kind>
SIGNAL_KINDS = ("ecowatt", "tempo", "local-flex", "nebco", "sei-peak")

#: scopes a new DSO client gets unless told otherwise
DEFAULT_SCOPES = ("read_all", "read_targets", "write_programs", "write_events", "write_subscriptions")


@dataclass(frozen=True)
class MqttNotifierConfig:
    """`[dso.mqtt]`: the 3.1 MQTT notifier binding (docs/openadr3-mqtt.md). Off while `host` is unset."""

    #: the broker the VTN publishes to (None: the binding is not offered, GET /notifiers says WEBHOOK only)
    host: str | None = None
    port: int = 1883
    username: str | None = None
    password: str | None = None
    #: put before every topic name (one broker shared by several VTNs; tests namespace themselves with it)
    topic_prefix: str = ""
    #: what GET /notifiers tells clients to connect to (default: mqtt://host:port)
    uris: tuple[str, ...] = ()
    #: what GET /notifiers says the broker needs of clients: ANONYMOUS or OAUTH2_BEARER_TOKEN
    client_authentication: str = "ANONYMOUS"
    qos: int = 1
    #: changes kept while the broker is away; the oldest are dropped (and logged) beyond it
    queue_limit: int = 10_000


#: what `[dso.mqtt] client_authentication` may advertise (CERTIFICATE would hand out keys: not offered)
MQTT_CLIENT_AUTHENTICATION = ("ANONYMOUS", "OAUTH2_BEARER_TOKEN")


@dataclass(frozen=True)
class DsoConfig:
    """Upstream API settings; zones are groups of VEN names (poste source, feeder)."""

    market_context_base: str = "http://cariflex.mq/programs/"
    token_lifetime: timedelta = timedelta(hours=1)
    currency: str = "EUR"
    capacity_signal: Mapping[str, str] = field(default_factory=dict)
    zones: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    time_zone: str = "America/Martinique"
    signals: Mapping[str, AdapterSettings] = field(default_factory=dict)
    #: hosts subscription callback URLs may name (none: subscriptions are refused)
    callback_hosts: frozenset[str] = frozenset()
    #: how soon a disabled client's tokens stop working (the disabled list is re-read this often)
    client_recheck: timedelta = timedelta(seconds=10)
    mqtt: MqttNotifierConfig = field(default_factory=MqttNotifierConfig)


def parse_dso(table: Table) -> DsoConfig:
    """Validate `[dso]` (every key optional)."""
    table.reject_unknown(
        {
            "market_context_base",
            "token_lifetime",
            "currency",
            "capacity_signal",
            "zones",
            "time_zone",
            "signals",
            "callback_hosts",
            "client_recheck",
            "mqtt",
        }
    )
    defaults = DsoConfig()
    currency = table.string("currency", defaults.currency)
    if currency not in CURRENCIES:
        raise ConfigError(f"{table.path}.currency: {currency!r} is not an ISO 4217 code we know")
    capacity = {}
    for program_id, value in table.table("capacity_signal").data.items():
        if value not in CAPACITY_SIGNALS:
            raise ConfigError(f"{table.path}.capacity_signal.{program_id}: expected one of {', '.join(CAPACITY_SIGNALS)}")
        capacity[program_id] = value
    lifetime = table.duration("token_lifetime", "PT1H")
    if lifetime <= timedelta(0):
        raise ConfigError(f"{table.path}.token_lifetime: must be positive")
    time_zone = table.string("time_zone", defaults.time_zone)
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{table.path}.time_zone: unknown time zone {time_zone!r}") from exc
    signals_table = table.table("signals")
    signals_table.reject_unknown(set(SIGNAL_KINDS))
    signals = {
        kind: _adapter(signals_table.table(kind), time_zone, currency) for kind in SIGNAL_KINDS if kind in signals_table.data
    }
    hosts = table.data.get("callback_hosts", [])
    if not isinstance(hosts, list) or not all(isinstance(h, str) and h for h in hosts):
        raise ConfigError(f"{table.path}.callback_hosts: expected a list of host names")
    return DsoConfig(
        mqtt=_mqtt(table.table("mqtt")),
        client_recheck=table.duration("client_recheck", "PT10S"),
        callback_hosts=frozenset(hosts),
        time_zone=time_zone,
        signals=signals,
        market_context_base=table.string("market_context_base", defaults.market_context_base),
        token_lifetime=lifetime,
        currency=currency,
        capacity_signal=capacity,
        zones=table.table("zones").string_lists(),
    )


def _mqtt(table: Table) -> MqttNotifierConfig:
    """`[dso.mqtt]` (every key optional; no `host`: the binding is off)."""
    table.reject_unknown(
        {"host", "port", "username", "password", "topic_prefix", "uris", "client_authentication", "qos", "queue_limit"}
    )
    if "host" not in table.data:
        return MqttNotifierConfig()
    host = table.string("host")
    port = table.integer("port", 1883, minimum=1, maximum=65535)
    prefix = table.data.get("topic_prefix", "")
    if not isinstance(prefix, str) or any(c in prefix for c in "+#\0"):
        raise ConfigError(f"{table.path}.topic_prefix: expected a topic level text without '+', '#' or NUL")
    if prefix and not prefix.endswith("/"):
        prefix += "/"  # a prefix is whole topic levels
    uris = table.data.get("uris", [f"mqtt://{host}:{port}"])
    if not isinstance(uris, list) or not uris or not all(isinstance(u, str) and "://" in u for u in uris):
        raise ConfigError(f"{table.path}.uris: expected a list of broker URIs such as mqtts://broker.example:8883")
    auth = table.string("client_authentication", "ANONYMOUS")
    if auth not in MQTT_CLIENT_AUTHENTICATION:
        raise ConfigError(f"{table.path}.client_authentication: expected one of {', '.join(MQTT_CLIENT_AUTHENTICATION)}")
    return MqttNotifierConfig(
        host=host,
        port=port,
        username=table.string("username") if "username" in table.data else None,
        password=table.string("password") if "password" in table.data else None,
        topic_prefix=prefix,
        uris=tuple(uris),
        client_authentication=auth,
        qos=table.integer("qos", 1, minimum=0, maximum=2),
        queue_limit=table.integer("queue_limit", 10_000, minimum=1),
    )


def _clock(table: Table, key: str, default: str) -> time:
    text = table.string(key, default)
    try:
        return time.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"{table.path}.{key}: expected a local time such as 06:00") from exc


def _adapter(table: Table, time_zone: str, currency: str) -> AdapterSettings:
    """`[dso.signals.<kind>]`: program, zones, and for Tempo the prices and peak window."""
    table.reject_unknown({"program", "zones", "prices", "peak_start", "peak_end"})
    zones = table.data.get("zones", [])
    if not isinstance(zones, list) or not all(isinstance(z, str) and z for z in zones):
        raise ConfigError(f"{table.path}.zones: expected a list of zone or group names")
    prices = {}
    for colour, pair in table.table("prices").data.items():
        valid = (
            isinstance(pair, list)
            and len(pair) == 2
            and all(isinstance(p, int | float) and not isinstance(p, bool) for p in pair)
        )
        if colour not in COLOURS or not valid:
            raise ConfigError(f"{table.path}.prices.{colour}: expected BLUE, WHITE or RED = [off-peak, peak] per kWh")
        prices[colour] = (float(pair[0]), float(pair[1]))
    return AdapterSettings(
        program_id=table.string("program"),
        zones=tuple(zones),
        time_zone=time_zone,
        prices=prices,
        peak_start=_clock(table, "peak_start", "06:00"),
        peak_end=_clock(table, "peak_end", "22:00"),
        currency=currency,
    )
