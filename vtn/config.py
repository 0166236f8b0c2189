"""VTN configuration: a TOML file (config/vtn.toml by default), validated at start-up."""

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

from certs.tls import TlsSettings
from mapping.settings import ConfigError, Table
from observability.http import MetricsSettings, parse_metrics
from vtn.aggregator.settings import AggregatorConfig, parse_aggregator
from vtn.curtailment.settings import CurtailmentConfig, parse_curtailment
from vtn.dso.config import DsoConfig, parse_dso
from vtn.oadr.push.settings import PushConfig, parse_push
from vtn.oadr.security_config import ProxyTrust, parse_proxy, parse_tls
from vtn.store.database import StoreTimeouts
from vtn.ui.settings import UiConfig, parse_ui

#: the leader election's lock attempt and liveness check must fit a PostgreSQL round trip in `leader_retry`
MIN_LEADER_RETRY = timedelta(milliseconds=100)
#: libpq counts its connect timeout in whole seconds and takes anything below 2 as 2
MIN_CONNECT_TIMEOUT = timedelta(seconds=2)

#: The configuration `make demo` and a bare `cariflex vtn` use.
DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "config" / "vtn.toml"


@dataclass(frozen=True)
class ProgramConfig:
    """A program (market context) known from configuration."""

    program_id: str
    market_context: str
    name: str


@dataclass(frozen=True)
class AutoReport:
    """A report the VTN requests from every VEN that offers it, when the VEN registers its reports."""

    report_name: str
    granularity: timedelta
    report_back: timedelta


@dataclass(frozen=True)
class VtnConfig:
    """Everything the VTN reads from its configuration file."""

    vtn_id: str = "CARIFLEX-VTN"
    host: str = "127.0.0.1"
    port: int = 8080
    poll_interval: timedelta = timedelta(seconds=10)
    near_window: timedelta = timedelta(hours=1)
    max_body_bytes: int = 2 * 1024 * 1024
    accept_ven_chosen_ids: bool = True
    db_url: str = "sqlite:///var/vtn.db"
    refresh_interval: timedelta = timedelta(seconds=1)
    programs: tuple[ProgramConfig, ...] = ()
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    resources: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    auto_reports: tuple[AutoReport, ...] = ()
    #: an event's VENs are asked for their achieved curtailment this long after it ends (late meter data)
    curtailment_after: timedelta = timedelta(minutes=1)
    #: events that ended longer ago than this are not asked about (e.g. after a long outage of the VTN)
    curtailment_lookback: timedelta = timedelta(days=2)
    #: a report request the VEN has not answered this long after it was sent is sent again on its own …
    report_resend_after: timedelta = timedelta(seconds=60)
    #: … at most this many times (0: never), then marked `unanswered` (vtn/oadr/report_resend.py)
    report_resend_max: int = 3
    ui: UiConfig = field(default_factory=UiConfig)
    #: how the VTN settles: each program's baseline method, when figures are final (`[curtailment]`)
    curtailment: CurtailmentConfig = field(default_factory=CurtailmentConfig)
    dso: DsoConfig = field(default_factory=DsoConfig)
    aggregator: AggregatorConfig = field(default_factory=AggregatorConfig)
    #: a request body must arrive within this (slow clients are answered 408)
    body_timeout: timedelta = timedelta(seconds=30)
    #: None: plain HTTP (development only; production uses TLS, see docs/security.md)
    tls: TlsSettings | None = None
    proxy: ProxyTrust | None = None
    #: how far a signed message's ReplayProtect timestamp may be from now
    signature_window: timedelta = timedelta(minutes=5)
    #: who may scrape /metrics (docs/observability.md)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    #: PostgreSQL: reload at once on the change feed's NOTIFY (the periodic refresh stays as a safety net)
    listen_for_changes: bool = True
    #: PostgreSQL: how often a follower tries to become leader, and the leader checks it still is
    leader_retry: timedelta = timedelta(seconds=2)
    #: delivery to VENs registered in push mode (httpPullModel false)
    push: PushConfig = field(default_factory=PushConfig)
    #: how long a request waits on the store before it is told to retry ([store] connect/statement/pool_timeout)
    store_timeouts: StoreTimeouts = field(default_factory=StoreTimeouts)


def parse_config(data: Mapping[str, object], base_dir: Path, environ: Mapping[str, str]) -> VtnConfig:
    """Validate a parsed TOML document; relative SQLite paths are taken from `base_dir`."""
    root = Table(data, "", environ)
    root.reject_unknown(
        {
            "vtn",
            "store",
            "programs",
            "groups",
            "resources",
            "reports",
            "ui",
            "dso",
            "aggregator",
            "tls",
            "proxy",
            "metrics",
            "push",
            "curtailment",
        }
    )
    reports = root.table("reports")
    reports.reject_unknown({"on_registration", "curtailment_after", "curtailment_lookback", "resend_after", "resend_max"})
    auto_reports = []
    for wanted in reports.tables("on_registration"):
        wanted.reject_unknown({"report", "granularity", "report_back"})
        auto_reports.append(
            AutoReport(wanted.string("report"), wanted.duration("granularity", "PT1M"), wanted.duration("report_back", "PT5M"))
        )
    vtn = root.table("vtn")
    vtn.reject_unknown(
        {"vtn_id", "host", "port", "poll_interval", "near_window", "max_body_bytes", "accept_ven_chosen_ids", "body_timeout"}
        | {"signature_window"}
    )
    store = root.table("store")
    store.reject_unknown(
        {"url", "refresh_interval", "listen", "leader_retry", "connect_timeout", "statement_timeout", "pool_timeout"}
    )
    defaults = VtnConfig()
    programs = []
    for program in root.tables("programs"):
        program.reject_unknown({"program_id", "market_context", "name"})
        programs.append(
            ProgramConfig(
                program_id=program.string("program_id"),
                market_context=program.string("market_context"),
                name=program.string("name", program.string("program_id")),
            )
        )
    return VtnConfig(
        vtn_id=vtn.string("vtn_id", defaults.vtn_id),
        host=vtn.string("host", defaults.host),
        port=vtn.integer("port", defaults.port, 0, 65535),
        poll_interval=vtn.positive_duration("poll_interval", defaults.poll_interval),
        near_window=vtn.duration("near_window", defaults.near_window),
        max_body_bytes=vtn.integer("max_body_bytes", defaults.max_body_bytes, 1024, 256 * 1024 * 1024),
        accept_ven_chosen_ids=vtn.boolean("accept_ven_chosen_ids", defaults.accept_ven_chosen_ids),
        db_url=resolve_db_url(store.string("url", defaults.db_url), base_dir),
        refresh_interval=store.positive_duration("refresh_interval", defaults.refresh_interval),
        programs=tuple(programs),
        groups=root.table("groups").string_lists(),
        resources=root.table("resources").string_lists(),
        auto_reports=tuple(auto_reports),
        curtailment_after=reports.duration("curtailment_after", defaults.curtailment_after),
        curtailment_lookback=reports.duration("curtailment_lookback", defaults.curtailment_lookback),
        report_resend_after=reports.positive_duration("resend_after", defaults.report_resend_after),
        report_resend_max=reports.integer("resend_max", defaults.report_resend_max, 0, 100),
        ui=parse_ui(root.table("ui"), base_dir),
        dso=parse_dso(root.table("dso")),
        aggregator=parse_aggregator(root.table("aggregator")),
        body_timeout=vtn.positive_duration("body_timeout", defaults.body_timeout),
        signature_window=vtn.positive_duration("signature_window", defaults.signature_window),
        tls=parse_tls(root, base_dir),
        proxy=parse_proxy(root),
        metrics=parse_metrics(root.table("metrics"), with_listener=False),
        listen_for_changes=store.boolean("listen", defaults.listen_for_changes),
        leader_retry=store.positive_duration("leader_retry", defaults.leader_retry, MIN_LEADER_RETRY),
        push=parse_push(root.table("push"), base_dir),
        store_timeouts=StoreTimeouts(
            connect=store.positive_duration("connect_timeout", defaults.store_timeouts.connect, MIN_CONNECT_TIMEOUT),
            statement=store.positive_duration("statement_timeout", defaults.store_timeouts.statement),
            pool=store.positive_duration("pool_timeout", defaults.store_timeouts.pool),
        ),
        curtailment=parse_curtailment(root.table("curtailment")),
    )


def resolve_db_url(url: str, base_dir: Path) -> str:
    """Make a relative `sqlite:///path` absolute against `base_dir` (the config file's folder's parent)."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite:///:memory:":
        return prefix + str((base_dir / url[len(prefix) :]).resolve())
    return url


def load_config(path: Path | None = None, **overrides: object) -> VtnConfig:
    """Read and validate the config file, then apply command-line overrides (None = not given)."""
    path = path or DEFAULT_CONFIG
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: configuration file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
    try:
        config = parse_config(data, path.resolve().parent.parent, os.environ)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    given = {k: v for k, v in overrides.items() if v is not None}
    if "db_url" in given:
        given["db_url"] = resolve_db_url(str(given["db_url"]), Path.cwd())
    return replace(config, **given)  # type: ignore[arg-type]
