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
