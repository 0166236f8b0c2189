"""VEN configuration: `config/ven.toml` (the VTN link, the store, defaults) and `config/sites.toml`
(the sites this process hosts), validated at start-up."""

import ipaddress
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from certs.settings import parse_tls
from certs.tls import TlsSettings
from mapping.curtailment import DEFAULT_MAX_HOLD, DEFAULT_MIN_COVERAGE, RECTANGLE, BaselineConfig
from mapping.curtailment.settings import BASELINE_KEYS, program_configs
from mapping.flex.devices import Device
from mapping.oadr.report_profile import ReportProfile
from mapping.settings import ConfigError, Table
from observability.http import MetricsSettings, parse_metrics
from ven.flex_config import FlexSettings, parse_device, parse_flex
from ven.influx_config import InfluxSettings, parse_influxdb

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
DEFAULT_CONFIG = CONFIG_DIR / "ven.toml"
DEFAULT_SITES = CONFIG_DIR / "sites.toml"
TELEMETRY_SOURCES = ("mqtt", "flexmeasures")
#: the top-level tables of ven.toml
SECTIONS = {"vtn", "store", "poll", "reports", "opt", "sites_file", "flexmeasures", "mqtt", "curtailment", "tls", "metrics", "s2"}
SECTIONS |= {"flex", "influxdb"}


#: the base tariff (EUR/kWh) when [opt] base_price_per_kwh is not given
DEFAULT_BASE_PRICE_PER_KWH = 0.20


@dataclass(frozen=True)
class OptPolicy:
    """When a site answers optOut instead of optIn (rules are checked in this order)."""

    refuse_signals: tuple[str, ...] = ()
    refuse_test_events: bool = False
    min_import_limit_kw: float = 0.0
    #: the programs (marketContexts) the site is enrolled in; an entry ending in * is a prefix; empty: any
    programs: tuple[str, ...] = ()
    #: when the site's schedule cannot honour an event's import limit (or the schedule job fails): "log" only,
    #: "partial" (oadrCreateOpt optOut for the windows it cannot honour) or "optOut" (for the whole event)
    on_breach: str = "partial"
    #: the site's base energy tariff (EUR/kWh): what ELECTRICITY_PRICE/ENERGY_PRICE priceRelative adds to
    #: and priceMultiplier multiplies, and the price FlexMeasures schedules with where no event sets one
    base_price_per_kwh: float = DEFAULT_BASE_PRICE_PER_KWH
    #: what the site is paid for the energy it exports (EUR/kWh): FlexMeasures' production-price; 0 without a
    #: feed-in contract, so export is never worth anything unless a program asks for it
    feed_in_price_per_kwh: float = 0.0


#: the [opt] on_breach choices
ON_BREACH = ("log", "partial", "optOut")


@dataclass(frozen=True)
class SiteConfig:
    """One site: its VEN name, contract, groups and asset (kind and parameters)."""

    name: str
    ven_name: str
    contracted_kva: float = 9.0
    base_load_kw: float = 1.5
    label: str = ""
    commune: str = ""
    latitude: float | None = None
    longitude: float | None = None
    groups: tuple[str, ...] = ()
    asset: Mapping[str, Any] = field(default_factory=dict)
    opt: OptPolicy = field(default_factory=OptPolicy)
    #: the site's export contract (kVA, taken as kW): what it may ever export
    export_kva: float = 0.0
    #: what the programs it takes part in ask of it and its local time (`[flex]` of ven.toml)
    flex: FlexSettings = FlexSettings()
    #: where the site's meter readings come from: "mqtt" (the platform's IoT layer) or "flexmeasures"
    telemetry: str = "mqtt"
    #: the pairing token its device's S2 Resource Manager presents (None: the device is not dispatched over S2)
    s2_token: str | None = field(default=None, repr=False)

    @cached_property
    def device(self) -> Device | None:
        """The site's device, from its asset table (checked when sites.toml is read); None without one."""
        return parse_device(Table(self.asset, f"sites.{self.name}.asset", {}))


@dataclass(frozen=True)
class FlexMeasuresSettings:
    """Where the VENs' FlexMeasures is and how to log in (the password usually comes from env:)."""

    url: str
    email: str
    password: str
    schedule_timeout: timedelta = timedelta(seconds=120)
    #: post the MQTT readings' 15-minute means to the sites' sensors, this often (None: do not)
    forward_every: timedelta | None = timedelta(minutes=1)
    #: how often sites with telemetry = "flexmeasures" read their sensors back
    read_every: timedelta = timedelta(minutes=1)


@dataclass(frozen=True)
class MqttSettings:
    """The MQTT broker site telemetry comes from (`ven/telemetry_mqtt.py` has the topic scheme)."""

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    #: None: the broker-side id is random (clean session, so nothing is kept under it anyway)
    client_id: str | None = None
    keepalive: int = 30
    qos: int = 1
    #: a reading older than this is no reading (None), never extrapolated
    staleness: timedelta = timedelta(minutes=5)
    #: a sample stamped further ahead than this is refused (device clock wrong)
    max_ahead: timedelta = timedelta(minutes=5)
    min_backoff: timedelta = timedelta(seconds=1)
    max_backoff: timedelta = timedelta(seconds=30)


@dataclass(frozen=True)
class CurtailmentSettings:
    """How a VEN computes achieved curtailment (mapping/curtailment, docs/curtailment.md)."""

    baseline: BaselineConfig = BaselineConfig(RECTANGLE)
    #: market context → the program's own baseline method
    programs: Mapping[str, BaselineConfig] = field(default_factory=dict)
    #: a meter sample stands for at most this long (the meter's nominal period; beyond it, a gap)
    max_hold: timedelta = DEFAULT_MAX_HOLD
    #: an interval whose samples cover less than this share is flagged partial
    min_coverage: float = DEFAULT_MIN_COVERAGE
    #: how far back the VEN keeps meter samples in memory (the baseline window plus the event must fit)
    history: timedelta = timedelta(hours=12)


@dataclass(frozen=True)
class PushSettings:
    """2.0b push mode: each site VEN registers with oadrHttpPullModel false and serves its own endpoint.

    Site number i (in sites order) listens on `host`:`port + i` (port 0: any free port) and gives the
    VTN `<scheme>://<public_host>:<port>/OpenADR2/Simple/2.0b` as its oadrTransportAddress: one port per
    site, so that over TLS each endpoint presents its own site's certificate, the one the VTN pins."""

    host: str = "127.0.0.1"
    port: int = 8090
    #: the host name or address the VTN reaches this process at (default: `host`; never 0.0.0.0 or ::)
    public_host: str | None = None


@dataclass(frozen=True)
class S2Settings:
    """The S2 CEM the sites' Resource Managers connect to over WebSocket (docs/ven.md, "S2 dispatch")."""

    host: str = "127.0.0.1"
    #: 0: any free port (the process logs the one it got)
    port: int = 8765
    #: serve wss:// with the [tls] certificate of the first site's VEN (RMs authenticate with their token)
    tls: bool = False
    #: an S2 message larger than this is answered INVALID_DATA and not read
    max_message_bytes: int = 64 * 1024
    #: a frame larger than this closes the connection (1009): the bound on what one RM can make the VEN hold
    max_frame_bytes: int = 1024 * 1024
    #: messages per second one RM may send (burst: twice as many); past that they are dropped, and a
    #: connection that keeps flooding is closed (1008)
    max_messages_per_second: float = 50.0
    #: how far ahead of their execution time instructions are sent (the one in force is always sent)
    lookahead: timedelta = timedelta(hours=1)
    #: an instruction with no ReceptionStatus within this counts as not followed
    reception_timeout: timedelta = timedelta(seconds=30)
    #: an RM that has not completed the handshake within this is disconnected
    handshake_timeout: timedelta = timedelta(seconds=30)


@dataclass(frozen=True)
class VenConfig:
    """What a `cariflex ven` process needs."""

    vtn_url: str = "http://127.0.0.1:8080/OpenADR2/Simple/2.0b"
    vtn_id: str | None = "CARIFLEX-VTN"
    store_path: Path = Path("var/ven.db")
    request_timeout: timedelta = timedelta(seconds=10)
    default_poll_interval: timedelta = timedelta(seconds=10)
    max_backoff: timedelta = timedelta(minutes=5)
    report_duration: timedelta = timedelta(hours=1)
    #: the shape of the reports offered and sent: 2.0b as the schema allows, or what a stock openleadr VTN takes
    report_profile: ReportProfile = ReportProfile.STANDARD
    sites: tuple[SiteConfig, ...] = ()
    flexmeasures: FlexMeasuresSettings | None = None
    mqtt: MqttSettings | None = None
    curtailment: CurtailmentSettings = CurtailmentSettings()
    #: None: plain HTTP to the VTN (development only)
    tls: TlsSettings | None = None
    #: sign every message with the site's TLS key and require signed answers (needs [tls])
    xml_signatures: bool = False
    #: the operations listener (/metrics, /healthz, /readyz); port None: none (docs/observability.md)
    metrics: MetricsSettings = MetricsSettings()
    #: None: pull mode (the VENs poll); else push mode (the VTN POSTs to each site VEN's endpoint)
    push: PushSettings | None = None
    #: the rolling plan and what each program's signals ask (docs/flexmeasures.md)
    flex: FlexSettings = FlexSettings()
    #: None: no S2 CEM (devices get MQTT setpoints only)
    s2: S2Settings | None = None
    #: None: the MQTT readings are not written to InfluxDB (docs/ven.md, "Telemetry to InfluxDB")
    influxdb: InfluxSettings | None = None


def _strings(table: Table, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = table.data.get(key, list(default))
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{table.path}.{key}: expected a list of non-empty strings")
    return tuple(value)


def _opt_policy(table: Table, default: OptPolicy) -> OptPolicy:
    table.reject_unknown(
        {"refuse_signals", "refuse_test_events", "min_import_limit_kw", "programs", "on_breach", "base_price_per_kwh"}
        | {"feed_in_price_per_kwh"}
    )
    minimum = table.data.get("min_import_limit_kw", default.min_import_limit_kw)
    if not isinstance(minimum, int | float) or isinstance(minimum, bool):
        raise ConfigError(f"{table.path}.min_import_limit_kw: expected a number of kW")
    base_price = _number(table, "base_price_per_kwh", default.base_price_per_kwh)
    if base_price is None or not math.isfinite(base_price) or base_price < 0:
        raise ConfigError(f"{table.path}.base_price_per_kwh: expected a price of at least 0 EUR/kWh, got {base_price!r}")
    feed_in = _number(table, "feed_in_price_per_kwh", default.feed_in_price_per_kwh)
    if feed_in is None or not math.isfinite(feed_in) or feed_in < 0:
        raise ConfigError(f"{table.path}.feed_in_price_per_kwh: expected a price of at least 0 EUR/kWh, got {feed_in!r}")
    on_breach = table.data.get("on_breach", default.on_breach)
    if on_breach not in ON_BREACH:
        raise ConfigError(f"{table.path}.on_breach: expected one of {', '.join(ON_BREACH)}, got {on_breach!r}")
    return OptPolicy(
        _strings(table, "refuse_signals", default.refuse_signals),
        table.boolean("refuse_test_events", default.refuse_test_events),
        float(minimum),
        _strings(table, "programs", default.programs),
        on_breach,
        base_price,
        feed_in,
    )


def _number(table: Table, key: str, default: float | None) -> float | None:
    value = table.data.get(key, default)
    if value is not None and (not isinstance(value, int | float) or isinstance(value, bool)):
        raise ConfigError(f"{table.path}.{key}: expected a number, got {value!r}")
    return float(value) if value is not None else None


def parse_sites(data: Mapping[str, Any], environ: Mapping[str, str], default_opt: OptPolicy) -> tuple[SiteConfig, ...]:
    """Validate a parsed sites document."""
    root = Table(data, "", environ)
    root.reject_unknown({"sites"})
    sites = []
    for site in root.tables("sites"):
        site.reject_unknown(
            {
                "name",
                "ven_name",
                "label",
                "commune",
                "latitude",
                "longitude",
                "contracted_kva",
                "export_kva",
                "base_load_kw",
                "groups",
                "asset",
                "opt",
                "telemetry",
                "s2_token",
            }
        )
        name = site.string("name")
        groups = site.data.get("groups", [])
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            raise ConfigError(f"{site.path}.groups: expected a list of group ids")
        telemetry = site.string("telemetry", "mqtt")
        if telemetry not in TELEMETRY_SOURCES:
            raise ConfigError(f"{site.path}.telemetry: expected one of {', '.join(TELEMETRY_SOURCES)}, got {telemetry!r}")
        asset = site.table("asset")
        parse_device(asset)  # refused here, naming the field, rather than when the site is first planned
        export_kva = _number(site, "export_kva", 0.0) or 0.0
        if export_kva < 0:
            raise ConfigError(f"{site.path}.export_kva: must not be negative, got {export_kva:g}")
        sites.append(
            SiteConfig(
                name=name,
                ven_name=site.string("ven_name", name),
                label=str(site.data.get("label", "")),
                commune=str(site.data.get("commune", "")),
                latitude=_number(site, "latitude", None),
                longitude=_number(site, "longitude", None),
                contracted_kva=_number(site, "contracted_kva", 9.0) or 9.0,
                base_load_kw=_number(site, "base_load_kw", 1.5) or 0.0,
                groups=tuple(groups),
                asset=dict(asset.data),
                export_kva=export_kva,
                opt=_opt_policy(site.table("opt"), default_opt),
                telemetry=telemetry,
                s2_token=site.string("s2_token") if "s2_token" in site.data else None,
            )
        )
    names = [s.name for s in sites]
    if len(set(names)) != len(names):
        raise ConfigError("sites: two sites share a name")
    tokens = [s.s2_token for s in sites if s.s2_token]
    if len(set(tokens)) != len(tokens):
        raise ConfigError("sites: two sites share an s2_token (each device's Resource Manager needs its own)")
    short = [s.name for s in sites if s.s2_token is not None and len(s.s2_token) < 16]
    if short:
        raise ConfigError(f"sites: {', '.join(short)}: s2_token must be at least 16 characters (a guessable token pairs anyone)")
    return tuple(sites)


def _flexmeasures(table: Table) -> FlexMeasuresSettings | None:
    table.reject_unknown(
        {"enabled", "url", "email", "password", "schedule_timeout", "forward_telemetry", "forward_every", "read_every"}
    )
    if not table.boolean("enabled", False):
        return None
    settings = FlexMeasuresSettings(
        url=table.string("url"),
        email=table.string("email"),
        password=table.string("password"),
        schedule_timeout=table.positive_duration("schedule_timeout", "PT120S"),
        forward_every=table.positive_duration("forward_every", "PT1M") if table.boolean("forward_telemetry", True) else None,
        read_every=table.positive_duration("read_every", "PT1M"),
    )
    return settings


def _mqtt(table: Table) -> MqttSettings | None:
    table.reject_unknown(
        {"enabled", "host", "port", "username", "password", "client_id", "keepalive", "qos", "staleness", "max_ahead"}
        | {"min_backoff", "max_backoff"}
    )
    if not table.boolean("enabled", False):
        return None
    username = table.string("username") if table.data.get("username") else None
    settings = MqttSettings(
        host=table.string("host", MqttSettings.host),
        port=table.integer("port", MqttSettings.port, 1, 65535),
        username=username,
        password=table.string("password") if username and table.data.get("password") else None,
        client_id=table.string("client_id") if table.data.get("client_id") else None,
        keepalive=table.integer("keepalive", MqttSettings.keepalive, 5, 3600),
        qos=table.integer("qos", MqttSettings.qos, 0, 1),
        staleness=table.positive_duration("staleness", "PT5M"),
        max_ahead=table.duration("max_ahead", "PT5M"),
        min_backoff=table.positive_duration("min_backoff", "PT1S"),
        max_backoff=table.positive_duration("max_backoff", "PT30S"),
    )
    if settings.max_backoff < settings.min_backoff:
        raise ConfigError(f"{table.path}.max_backoff: shorter than min_backoff")
    return settings


PUSH_KEYS = {"push", "push_host", "push_port", "push_public_host"}


def _unspecified(host: str) -> bool:
    """True for 0.0.0.0, :: and the like: an address to listen on, never one to connect to."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


def _push(vtn: Table) -> PushSettings | None:
    """`[vtn] push = true` and where the site VENs' endpoints listen.

    The VTN is given `push_public_host` (default: `push_host`) in each transport address, so it must be
    a host the VTN can reach: 0.0.0.0 or :: (listen on every interface) is refused there."""
    if not vtn.boolean("push", False):
        return None
    host = vtn.string("push_host", PushSettings.host)
    if "push_public_host" not in vtn.data and _unspecified(host):
        raise ConfigError(
            f"{vtn.path}.push_public_host: required when push_host is {host!r} (listening on every interface): "
            "give the host name or address the VTN reaches this process at"
        )
    public_host = vtn.string("push_public_host", host)
    if _unspecified(public_host):
        raise ConfigError(
            f"{vtn.path}.push_public_host: {public_host!r} is not an address the VTN can reach; "
            "give the host name or address the VTN reaches this process at"
        )
    return PushSettings(host=host, port=vtn.integer("push_port", PushSettings.port, 0, 65535), public_host=public_host)


def _curtailment(table: Table) -> CurtailmentSettings:
    table.reject_unknown(BASELINE_KEYS | {"max_hold", "min_coverage_percent", "programs", "history"})
    default, programs = program_configs(table, BaselineConfig(RECTANGLE))
    max_hold = table.duration("max_hold", DEFAULT_MAX_HOLD)
    if max_hold <= timedelta(0):
        raise ConfigError(f"{table.path}.max_hold: must be longer than zero")
    coverage = table.integer("min_coverage_percent", round(DEFAULT_MIN_COVERAGE * 100), 0, 100)
    history = table.duration("history", "PT12H")
    if history <= timedelta(0):
        raise ConfigError(f"{table.path}.history: must be longer than zero")
    return CurtailmentSettings(default, programs, max_hold, coverage / 100, history)


S2_KEYS = {
    "enabled",
    "host",
    "port",
    "tls",
    "max_message_bytes",
    "max_frame_bytes",
    "max_messages_per_second",
    "lookahead",
    "reception_timeout",
    "handshake_timeout",
}


def _s2(table: Table, tls: TlsSettings | None) -> S2Settings | None:
    """`[s2] enabled = true` and where the CEM listens."""
    table.reject_unknown(S2_KEYS)
    if not table.boolean("enabled", False):
        return None
    rate = table.data.get("max_messages_per_second", S2Settings.max_messages_per_second)
    if not isinstance(rate, int | float) or isinstance(rate, bool) or rate <= 0:
        raise ConfigError(f"{table.path}.max_messages_per_second: expected a positive number, got {rate!r}")
    settings = S2Settings(
        host=table.string("host", S2Settings.host),
        port=table.integer("port", S2Settings.port, 0, 65535),
        tls=table.boolean("tls", False),
        max_message_bytes=table.integer("max_message_bytes", S2Settings.max_message_bytes, 1024),
        max_frame_bytes=table.integer("max_frame_bytes", S2Settings.max_frame_bytes, 1024),
        max_messages_per_second=float(rate),
        lookahead=table.duration("lookahead", "PT1H"),
        reception_timeout=table.positive_duration("reception_timeout", "PT30S"),
        handshake_timeout=table.positive_duration("handshake_timeout", "PT30S"),
    )
    if settings.tls and tls is None:
        raise ConfigError(f"{table.path}.tls: needs [tls] (the CEM serves the first site's VEN certificate)")
    if settings.max_frame_bytes < settings.max_message_bytes:
        raise ConfigError(f"{table.path}.max_frame_bytes: must be at least max_message_bytes")
    return settings


def _report_profile(table: Table) -> ReportProfile:
    value = table.string("profile", ReportProfile.STANDARD.value)
    try:
        return ReportProfile(value)
    except ValueError:
        choices = ", ".join(p.value for p in ReportProfile)
        raise ConfigError(f"{table.path}.profile: expected one of {choices}, got {value!r}") from None


def load_config(path: Path | None = None, sites_path: Path | None = None, **overrides: object) -> VenConfig:
    """Read and validate ven.toml and sites.toml, then apply command-line overrides (None = not given)."""
    path = path or DEFAULT_CONFIG
    data = _read(path)
    root = Table(data, "", os.environ)
    try:
        root.reject_unknown(SECTIONS)
        vtn, store, poll, reports = root.table("vtn"), root.table("store"), root.table("poll"), root.table("reports")
        vtn.reject_unknown({"url", "vtn_id", "request_timeout", "xml_signatures"} | PUSH_KEYS)
        store.reject_unknown({"path"})
        poll.reject_unknown({"default_interval", "max_backoff"})
        reports.reject_unknown({"duration", "profile"})
        default_opt = _opt_policy(root.table("opt"), OptPolicy())
        vtn_id = vtn.data.get("vtn_id", "CARIFLEX-VTN")
        config = VenConfig(
            vtn_url=vtn.string("url", VenConfig.vtn_url),
            vtn_id=vtn.string("vtn_id") if vtn_id else None,
            store_path=(path.resolve().parent.parent / store.string("path", "var/ven.db")),
            request_timeout=vtn.positive_duration("request_timeout", "PT10S"),
            default_poll_interval=poll.positive_duration("default_interval", "PT10S"),
            max_backoff=poll.positive_duration("max_backoff", "PT5M"),
            report_duration=reports.positive_duration("duration", "PT1H"),
            report_profile=_report_profile(reports),
            flexmeasures=_flexmeasures(root.table("flexmeasures")),
            mqtt=_mqtt(root.table("mqtt")),
            curtailment=_curtailment(root.table("curtailment")),
            tls=parse_tls(root.table("tls"), path.resolve().parent.parent, "client"),
            xml_signatures=vtn.boolean("xml_signatures", False),
            metrics=parse_metrics(root.table("metrics"), with_listener=True),
            push=_push(vtn),
            flex=parse_flex(root.table("flex")),
            influxdb=parse_influxdb(root.table("influxdb")),
        )
        config = replace(config, s2=_s2(root.table("s2"), config.tls))
        if config.s2 is not None and config.flexmeasures is None:
            raise ConfigError("s2.enabled: needs [flexmeasures] enabled (the schedules the CEM dispatches come from there)")
        if config.influxdb is not None and config.mqtt is None:
            raise ConfigError("influxdb.enabled: needs [mqtt] enabled (the sink writes the readings that arrive over MQTT)")
        if config.xml_signatures and config.tls is None:
            raise ConfigError("vtn.xml_signatures: needs [tls] (the signing certificate is the site's TLS certificate)")
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    sites_file = sites_path or (path.resolve().parent / str(data.get("sites_file", "sites.toml")))
    try:
        sites = parse_sites(_read(sites_file), os.environ, default_opt)
    except ConfigError as exc:
        raise ConfigError(f"{sites_file}: {exc}") from exc
    config = replace(config, sites=tuple(replace(site, flex=config.flex) for site in sites))
    given = {k: v for k, v in overrides.items() if v is not None}
    return replace(config, **given)  # type: ignore[arg-type]


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: configuration file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
